/**
 * The Bedrock Runtime client's HTTP/2 handler: pooled, reused sessions for every call, streamed
 * answers included.
 *
 * @smithy/node-http-handler gives every operation with an event stream (ConverseStream,
 * InvokeModelWithResponseStream) an isolated session of its own: a new TCP connection, and
 * against AWS a TLS handshake, per streamed call, however many sessions are already open
 * (smithy-lang/smithy-typescript#1952, which gives no reason beyond enforcing it; #2202 and #2259
 * are leaks of those sessions). A streamed answer to a whole request is an ordinary HTTP/2 stream
 * that multiplexes like any other (RFC 9113 §5), so this handler leases streamed calls from the
 * same pool as plain ones; only a request that is itself an event stream (bidirectional) keeps
 * an isolated session. Each session carries at most
 * {@link STREAMS_PER_SESSION} calls; more open another session of the pool.
 *
 * Bidirectional operations (InvokeModelWithBidirectionalStream) are not used by this gateway.
 */
import { NodeHttp2Handler, type NodeHttp2HandlerOptions } from '@smithy/node-http-handler'

/**
 * Concurrent calls on one session before the pool opens another. Bedrock's endpoints allow more
 * streams per connection, but one TCP connection (its send buffer, congestion and flow-control
 * windows) is shared by all of its streams, so a new stream's first bytes queue behind the others'
 * data. Measured with `npx tsx scripts/bench/handlers.ts` (16 concurrent 200-delta streams, quiet
 * machine): first content p50 35.3 ms at 16 calls per session, 25.4 ms at 8, 21.2 ms at 4 (HTTP/1.1
 * keep-alive, a connection per call: 23.3 ms), with the least CPU per stream at 4.
 */
export const STREAMS_PER_SESSION = 4

/** A request body sent whole (JSON text or bytes), not an event stream of its own. */
const isWholeBody = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array

type HandleOptions = NonNullable<Parameters<NodeHttp2Handler['handle']>[1]> & { isEventStream?: boolean }

/** See the module comment. */
export class BedrockHttp2Handler extends NodeHttp2Handler {
  constructor(options: NodeHttp2HandlerOptions = {}) {
    super({ disableConcurrentStreams: false, maxConcurrentStreams: STREAMS_PER_SESSION, ...options })
  }

  override handle(...[request, options = {}]: Parameters<NodeHttp2Handler['handle']>) {
    if ((options as HandleOptions).isEventStream && isWholeBody(request.body)) {
      const { isEventStream: _responseOnly, ...shared } = options as HandleOptions
      return super.handle(request, shared)
    }
    return super.handle(request, options)
  }
}
