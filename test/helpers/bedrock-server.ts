/**
 * A local stand-in for Amazon Bedrock Runtime that speaks the service's real wire protocol,
 * so the real `@aws-sdk/client-bedrock-runtime` can be pointed at it with
 * `endpoint: server.url` — no SDK mocks.
 *
 * Wire protocol (checked against the SDK's own code, @aws-sdk/client-bedrock-runtime 3.1164):
 * - restJson1 over HTTP/2 cleartext (h2c): the client's default request handler is
 *   `NodeHttp2Handler`, which speaks HTTP/2 with prior knowledge to `http://` endpoints.
 *   HTTP/1.1 is accepted too on the same port, for clients given a `NodeHttpHandler`.
 * - Routes `POST /model/{modelId}/converse | converse-stream | invoke |
 *   invoke-with-response-stream | count-tokens`, the model id URL-encoded as one path segment.
 * - Errors: status + `x-amzn-ErrorType: <Type>:<namespace URL>` + `{"message": …}`; the SDK
 *   takes the type from that header (the part before `:`) and picks the exception class.
 * - Streams: `application/vnd.amazon.eventstream`, one binary event-stream message per event
 *   (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html), the JSON
 *   body being the event structure itself
 *   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html).
 *
 * SDK behaviours seen through this server (tests in test/helpers-tests/bedrock-server.test.ts):
 * `ConverseStreamCommand` resolves only when the first event arrives, not at the headers; over
 * HTTP/2 a mid-stream abort or a dropped connection (no RST_STREAM) ends the event iterator
 * WITHOUT an error — only the missing messageStop/metadata tells.
 *
 * Listens on 127.0.0.1 only, on a random port.
 */
import http2 from 'node:http2'
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import net from 'node:net'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'

/** The Bedrock Runtime operations this server answers. */
export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-stream' | 'count-tokens'

/** One request received by the server, recorded in {@link BedrockTestServer.calls}. */
export interface BedrockCall {
  operation: BedrockOperation
  /** URL-decoded (`%3A` → `:`, `%2F` → `/`). */
  modelId: string
  /** The request body parsed as JSON; the raw text when it is not JSON (possible for InvokeModel). */
  body: any
  /** Request headers as received (HTTP/2 pseudo-headers included), e.g. `authorization`. */
  headers: Record<string, string | string[] | undefined>
  /** `'h2'` for HTTP/2 (the SDK's default handler), `'http/1.1'` otherwise. */
  protocol: 'h2' | 'http/1.1'
  /** True when the connection/stream closed before the reply was complete (client abort). */
  aborted: boolean
}

/** One element of an event-stream reply. */
export type StreamFrame =
  /** An event, e.g. `{ event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'Hi' } } }`. */
  | { event: string; data: object }
  /** A mid-stream exception, `exception` in the stream's camelCase, e.g. `'throttlingException'`. */
  | { exception: string; data: { message: string } }
  /** Pause before the next frame (the frames before it are already on the wire). */
  | { delayMs: number }
  /**
   * Cut the response abruptly, as a network failure would: RST_STREAM (INTERNAL_ERROR) on
   * HTTP/2, a destroyed socket on HTTP/1.1. Later frames are ignored.
   */
  | { reset: true }

/** What a {@link BedrockHandler} answers. */
export type BedrockReply =
  /** A JSON reply (Converse, InvokeModel). `headers` are extra response headers. */
  | { json: object; status?: number; headers?: Record<string, string> }
  /** An `application/vnd.amazon.eventstream` reply (ConverseStream, InvokeModelWithResponseStream). */
  | { frames: StreamFrame[] | AsyncIterable<StreamFrame> }
  /**
   * An error reply. `type` is the exception name (`'ValidationException'`…); `status` defaults
   * to the status the SDK models for that type ({@link ERROR_STATUS}).
   */
  | { error: { type: string; status?: number; message: string } }
  /**
   * Any reply at all, as something in front of Bedrock (a proxy, a load balancer, a wrong
   * endpoint) might send it: e.g. `{ raw: { status: 502, contentType: 'text/html', body: '<html>…' } }`.
   * No `x-amzn-ErrorType`, no request id unless given in `headers`.
   */
  | { raw: { status: number; contentType?: string; body?: string; headers?: Record<string, string> } }
  /**
   * No reply: the connection the call came on is destroyed (every call on it fails), as when the
   * peer closed a pooled connection just as the call went out.
   */
  | { dropConnection: true }

/** Decides the reply to one call. May be async (e.g. to simulate latency). */
export type BedrockHandler = (call: BedrockCall) => BedrockReply | Promise<BedrockReply>

/** A running test server; close it in `t.teardown`. */
export interface BedrockTestServer {
  /** `http://127.0.0.1:<port>`: pass as the client's `endpoint`. */
  url: string
  /** Every call received, in arrival order. */
  calls: BedrockCall[]
  /** TCP connections accepted so far (each HTTP/2 session is one). */
  readonly connections: number
  /** Replace the handler for subsequent calls. */
  setHandler(h: BedrockHandler): void
  /** Drops every open connection at once, as a peer's idle timeout or a restart does. */
  dropConnections(): void
  /** Resolves once no reply is in progress (useful after a client abort). */
  idle(): Promise<void>
  /** Ends in-flight replies, closes every HTTP/2 session and connection, then the server. */
  close(): Promise<void>
}

/**
 * HTTP status per error type, as modelled by the SDK (`schemas_0.js`, `[_hE]` traits). The SDK
 * picks the class from `x-amzn-ErrorType`, not the status, but tests check both.
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  ValidationException: 400,
  ConflictException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  // Not modelled by the SDK (it throws a generic BedrockRuntimeServiceException with this name).
  UnknownOperationException: 404,
  SerializationException: 400,
})

/** Options shared by {@link textStreamFrames} and {@link converseTextResponse}. */
export interface TextReplyOptions {
  /** Default `'end_turn'`. */
  stopReason?: string
  /** Default: 10 input tokens, ~1 output token per 4 characters; `totalTokens` defaults to the sum. */
  usage?: {
    inputTokens: number
    outputTokens: number
    totalTokens?: number
    cacheReadInputTokens?: number
    cacheWriteInputTokens?: number
  }
  /** Pause before each delta (streams only), so consumers see real streaming timing. */
  delayMs?: number
}

const ROUTES: Record<string, BedrockOperation> = {
  converse: 'converse',
  'converse-stream': 'converse-stream',
  invoke: 'invoke',
  'invoke-with-response-stream': 'invoke-stream',
  'count-tokens': 'count-tokens',
}
const ROUTE_RE = /^\/model\/([^/]+)\/([a-z-]+)$/
const ERROR_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.bedrock/'
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function usageOf(text: string, opts: TextReplyOptions) {
  const u = opts.usage ?? { inputTokens: 10, outputTokens: Math.max(1, Math.ceil(text.length / 4)) }
  return { ...u, totalTokens: u.totalTokens ?? u.inputTokens + u.outputTokens }
}

/**
 * Realistic ConverseStream frames for a text answer split into `pieces`: messageStart,
 * one contentBlockDelta per piece (text blocks have no contentBlockStart), contentBlockStop,
 * messageStop{stopReason}, metadata{usage, metrics}.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
export function textStreamFrames(pieces: string[], opts: TextReplyOptions = {}): StreamFrame[] {
  const frames: StreamFrame[] = [{ event: 'messageStart', data: { role: 'assistant' } }]
  for (const text of pieces) {
    if (opts.delayMs) frames.push({ delayMs: opts.delayMs })
    frames.push({ event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text } } })
  }
  frames.push(
    { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
    { event: 'messageStop', data: { stopReason: opts.stopReason ?? 'end_turn' } },
    {
      event: 'metadata',
      data: { usage: usageOf(pieces.join(''), opts), metrics: { latencyMs: 1 + (opts.delayMs ?? 0) * pieces.length } },
    },
  )
  return frames
}

/**
 * A Converse (non-stream) JSON response for a text answer.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
export function converseTextResponse(text: string, opts: TextReplyOptions = {}): object {
  return {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: opts.stopReason ?? 'end_turn',
    usage: usageOf(text, opts),
    metrics: { latencyMs: 1 },
  }
}

/** A tool call the model makes, for {@link toolUseStreamFrames} and {@link converseToolUseResponse}. */
export interface ToolUse {
  toolUseId: string
  name: string
  input: object
}

/**
 * Realistic ConverseStream frames for an answer that calls tools: an optional text block at
 * index 0, then per tool a contentBlockStart{start.toolUse} and its input as partial JSON
 * strings (the first one `""`, as the real service sends), contentBlockStop; messageStop
 * `tool_use`, metadata.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
export function toolUseStreamFrames(
  tools: ToolUse[],
  opts: TextReplyOptions & { text?: string[] } = {},
): StreamFrame[] {
  const text = opts.text ?? []
  const base = textStreamFrames(text, { ...opts, stopReason: opts.stopReason ?? 'tool_use' })
  // base = messageStart, [delay,] delta…, contentBlockStop, messageStop, metadata.
  const frames = text.length ? base.slice(0, -2) : base.slice(0, 1)
  let index = text.length ? 1 : 0
  for (const tool of tools) {
    const json = JSON.stringify(tool.input)
    const cut = Math.ceil(json.length / 2)
    frames.push({
      event: 'contentBlockStart',
      data: { contentBlockIndex: index, start: { toolUse: { toolUseId: tool.toolUseId, name: tool.name } } },
    })
    for (const input of ['', json.slice(0, cut), json.slice(cut)]) {
      if (opts.delayMs) frames.push({ delayMs: opts.delayMs })
      frames.push({ event: 'contentBlockDelta', data: { contentBlockIndex: index, delta: { toolUse: { input } } } })
    }
    frames.push({ event: 'contentBlockStop', data: { contentBlockIndex: index } })
    index++
  }
  return [...frames, ...base.slice(-2)]
}

/**
 * A Converse (non-stream) JSON response that calls tools (optionally after some text).
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
export function converseToolUseResponse(tools: ToolUse[], opts: TextReplyOptions & { text?: string } = {}): object {
  const content: object[] = opts.text ? [{ text: opts.text }] : []
  for (const t of tools) content.push({ toolUse: { toolUseId: t.toolUseId, name: t.name, input: t.input } })
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: opts.stopReason ?? 'tool_use',
    usage: usageOf(opts.text ?? JSON.stringify(tools), opts),
    metrics: { latencyMs: 1 },
  }
}

/**
 * InvokeModelWithResponseStream frames: one `chunk` event per object, its `bytes` being the
 * base64 of the object's JSON (the model's native stream event).
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
 */
export function invokeStreamFrames(chunks: object[], opts: { delayMs?: number } = {}): StreamFrame[] {
  return chunks.flatMap((chunk): StreamFrame[] => [
    ...(opts.delayMs ? [{ delayMs: opts.delayMs }] : []),
    { event: 'chunk', data: { bytes: Buffer.from(JSON.stringify(chunk)).toString('base64') } },
  ])
}

/** The text of the last user message of a Converse request ('' if none). */
export function lastUserText(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : []
  let last: any
  for (const m of messages) if (m?.role === 'user') last = m
  const content: any[] = Array.isArray(last?.content) ? last.content : []
  return content.map((c) => (typeof c?.text === 'string' ? c.text : '')).join('')
}

/**
 * The default handler: deterministic and cheap, for benchmarks. Converse and ConverseStream
 * answer `echo: <last user text>` (streamed word by word); InvokeModel (-stream) answers
 * `{ echo: <request body> }`.
 */
export const echoHandler: BedrockHandler = (call) => {
  switch (call.operation) {
    case 'converse':
    case 'converse-stream': {
      const text = `echo: ${lastUserText(call.body)}`
      const usage = {
        inputTokens: Math.max(1, Math.ceil(JSON.stringify(call.body?.messages ?? []).length / 4)),
        outputTokens: Math.max(1, Math.ceil(text.length / 4)),
      }
      if (call.operation === 'converse') return { json: converseTextResponse(text, { usage }) }
      return { frames: textStreamFrames(text.split(/(?<= )/), { usage }) }
    }
    case 'invoke':
      return { json: { echo: call.body } }
    case 'invoke-stream':
      return { frames: invokeStreamFrames([{ echo: call.body }]) }
    case 'count-tokens':
      // CountTokens (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html):
      // `{input: {converse: {messages, system?, toolConfig?}}}` → `{inputTokens}`.
      return { json: { inputTokens: Math.max(1, Math.ceil(JSON.stringify(call.body?.input ?? {}).length / 4)) } }
  }
}

/**
 * Transient-failure mode: the first `n` calls (of every operation, or only those `only` accepts)
 * get `failure` (e.g. `{ error: { type: 'ThrottlingException', message: 'Too many requests' } }`),
 * later ones are answered by `then` (default {@link echoHandler}). `failed()` says how many failed.
 */
export function failFirst(
  n: number,
  failure: BedrockReply | ((call: BedrockCall) => BedrockReply),
  then: BedrockHandler = echoHandler,
  only: (call: BedrockCall) => boolean = () => true,
): BedrockHandler & { failed(): number } {
  let failed = 0
  const handler = (call: BedrockCall) => {
    if (only(call) && failed < n) {
      failed++
      return typeof failure === 'function' ? failure(call) : failure
    }
    return then(call)
  }
  return Object.assign(handler, { failed: () => failed })
}

/** A ThrottlingException reply, as Bedrock sends it when a model's quota is used up. */
export const THROTTLED: BedrockReply = {
  error: { type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
}

/** The common surface of the http2 compat API (HTTP/2) and node:http (HTTP/1.1) request/response. */
type Req = (http2.Http2ServerRequest | IncomingMessage) & { headers: IncomingHttpHeaders }
interface Res {
  readonly headersSent: boolean
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown
  write(chunk: Uint8Array): boolean
  end(chunk?: Uint8Array | string): unknown
  on(event: 'close' | 'drain' | 'error', fn: (...args: any[]) => void): unknown
  off(event: 'close' | 'drain' | 'error', fn: (...args: any[]) => void): unknown
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })

/** Resolves with the iterator's next result, or undefined once `signal` aborts. */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort)
        resolve(r)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/**
 * Start a Bedrock Runtime wire-compatible server on 127.0.0.1 (random port).
 * @param handler answers each call; defaults to {@link echoHandler}.
 */
export async function startBedrockServer(handler: BedrockHandler = echoHandler): Promise<BedrockTestServer> {
  const codec = new EventStreamCodec(toUtf8, fromUtf8)
  const calls: BedrockCall[] = []
  const sockets = new Set<net.Socket>()
  const sessions = new Set<http2.ServerHttp2Session>()
  const inFlight = new Set<AbortController>()
  let idleWaiters: Array<() => void> = []
  let current = handler
  let padCount = 0

  /** The real service pads event bodies with `"p"` so message sizes don't reveal token sizes. */
  const pad = () => PADDING.slice(0, 1 + (padCount++ % PADDING.length))

  const encode = (frame: Extract<StreamFrame, { data: object }>): Uint8Array => {
    if ('exception' in frame) {
      return codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'exception' },
          ':exception-type': { type: 'string', value: frame.exception },
          ':content-type': { type: 'string', value: 'application/json' },
        },
        body: fromUtf8(JSON.stringify(frame.data)),
      })
    }
    return codec.encode({
      headers: {
        ':event-type': { type: 'string', value: frame.event },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify({ ...frame.data, p: 'p' in frame.data ? frame.data.p : pad() })),
    })
  }

  const sendJson = (res: Res, status: number, body: object, headers: Record<string, string> = {}) => {
    const payload = Buffer.from(JSON.stringify(body))
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': payload.length,
      'x-amzn-requestid': randomUUID(),
      ...headers,
    })
    res.end(payload)
  }

  const sendError = (res: Res, type: string, message: string, status?: number) =>
    sendJson(
      res,
      status ?? ERROR_STATUS[type] ?? 400,
      { message },
      {
        'x-amzn-errortype': `${type}:${ERROR_NAMESPACE}`,
      },
    )

  /**
   * Writes frames one by one, honouring backpressure and delays; stops once `signal` aborts.
   * Returns true when a `reset` frame cut the response.
   */
  const sendFrames = async (
    res: Res,
    operation: BedrockOperation,
    frames: StreamFrame[] | AsyncIterable<StreamFrame>,
    signal: AbortSignal,
    reset: () => void,
  ): Promise<boolean> => {
    res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': randomUUID(),
      // InvokeModelWithResponseStream reports the model's content type in this header.
      ...(operation === 'invoke-stream' ? { 'x-amzn-bedrock-content-type': 'application/json' } : {}),
    })
    const it = (
      Symbol.asyncIterator in frames
        ? frames
        : (async function* () {
            yield* frames
          })()
    )[Symbol.asyncIterator]()
    try {
      for (;;) {
        const next = await nextOrAbort(it, signal)
        if (!next || next.done) break
        const frame = next.value
        if ('delayMs' in frame) {
          await sleep(frame.delayMs, signal)
          continue
        }
        if ('reset' in frame) {
          reset()
          return true
        }
        if (!res.write(encode(frame))) {
          const drained = new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done)
              signal.removeEventListener('abort', done)
              resolve()
            }
            res.on('drain', done)
            signal.addEventListener('abort', done, { once: true })
          })
          await drained
        }
        if (signal.aborted) break
      }
      return false
    } finally {
      // Let a generator producing frames run its cleanup when it was not run to its end.
      void it.return?.().catch(() => {})
    }
  }

  const onRequest = async (req: Req, res: Res) => {
    const ctl = new AbortController()
    inFlight.add(ctl)
    let complete = false
    let call: BedrockCall | undefined
    // Aborted = the stream closed (or the server shut down) before the reply was complete.
    ctl.signal.addEventListener('abort', () => {
      if (call) call.aborted = true
    })
    const onClose = () => {
      if (!complete) ctl.abort()
    }
    res.on('close', onClose)
    // A peer reset surfaces as 'error' on the request/response; 'close' already covers it.
    req.on('error', () => {})
    res.on('error', () => {})
    try {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const raw = Buffer.concat(chunks).toString('utf8')

      const url = new URL(req.url ?? '/', 'http://localhost')
      const match = ROUTE_RE.exec(url.pathname)
      const operation = match ? ROUTES[match[2]] : undefined
      if (req.method !== 'POST' || !match || !operation) {
        complete = true
        return sendError(res, 'UnknownOperationException', `No operation for ${req.method} ${url.pathname}`)
      }
      let modelId: string
      try {
        modelId = decodeURIComponent(match[1])
      } catch {
        complete = true
        return sendError(res, 'ValidationException', 'The model id is not correctly URL-encoded')
      }
      let body: any = raw
      let parsed = true
      try {
        body = raw === '' ? {} : JSON.parse(raw)
      } catch {
        parsed = false
      }
      call = {
        operation,
        modelId,
        body,
        headers: { ...req.headers },
        protocol: req.httpVersionMajor === 2 ? 'h2' : 'http/1.1',
        aborted: ctl.signal.aborted,
      }
      calls.push(call)
      if (!parsed && (operation === 'converse' || operation === 'converse-stream' || operation === 'count-tokens')) {
        complete = true
        return sendError(res, 'SerializationException', 'The request body is not valid JSON')
      }

      const reply = await current(call)
      if (ctl.signal.aborted) return
      if ('dropConnection' in reply) {
        complete = true
        if ('stream' in req) req.stream.session?.destroy()
        else req.socket.destroy()
      } else if ('frames' in reply) {
        const reset = () => {
          complete = true
          if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
          else req.socket.destroy()
        }
        const wasReset = await sendFrames(res, operation, reply.frames, ctl.signal, reset)
        if (ctl.signal.aborted || wasReset) return
        complete = true
        res.end()
      } else if ('error' in reply) {
        complete = true
        sendError(res, reply.error.type, reply.error.message, reply.error.status)
      } else if ('raw' in reply) {
        complete = true
        const payload = Buffer.from(reply.raw.body ?? '')
        res.writeHead(reply.raw.status, {
          ...(reply.raw.contentType ? { 'content-type': reply.raw.contentType } : {}),
          'content-length': payload.length,
          ...reply.raw.headers,
        })
        res.end(payload)
      } else {
        complete = true
        sendJson(res, reply.status ?? 200, reply.json, reply.headers)
      }
    } catch (err) {
      if (ctl.signal.aborted) return
      complete = true
      const message = `Test server handler failed: ${(err as Error).message}`
      if (!res.headersSent) return sendError(res, 'InternalServerException', message)
      // A frame iterator threw mid-stream: report it the way the service reports mid-stream faults.
      res.end(encode({ exception: 'internalServerException', data: { message } }))
    } finally {
      res.off('close', onClose)
      inFlight.delete(ctl)
      if (inFlight.size === 0) {
        const waiters = idleWaiters
        idleWaiters = []
        for (const w of waiters) w()
      }
    }
  }

  // `allowHTTP1` only works through TLS ALPN; for cleartext we sniff the HTTP/2 connection
  // preface ("PRI * HTTP/2.0…", RFC 9113 §3.4) ourselves and hand the socket to the right server.
  const h2Server = http2.createServer()
  const h1Server = http.createServer()
  for (const s of [h2Server, h1Server]) s.on('request', (req, res) => void onRequest(req, res as unknown as Res))
  h2Server.on('session', (session) => {
    sessions.add(session)
    // Clients destroy sessions abruptly (aborts, isolated sessions); that is not a server error.
    session.on('error', () => {})
    session.once('close', () => sessions.delete(session))
  })
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      // Every HTTP/1.1 method differs from "PRI" within its first 3 bytes.
      if (head.length < 3 && PREFACE.startsWith(head.toString('latin1'))) return
      socket.off('data', onData)
      socket.pause()
      socket.unshift(head)
      ;(PREFACE.startsWith(head.subarray(0, 3).toString('latin1')) ? h2Server : h1Server).emit('connection', socket)
      process.nextTick(() => socket.resume())
    }
    socket.on('data', onData)
  })

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get connections() {
      return connections
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy()
    },
    setHandler(h) {
      current = h
    },
    idle() {
      return inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const ctl of inFlight) ctl.abort()
      // Open HTTP/2 sessions (and keep-alive HTTP/1.1 sockets) would keep server.close() waiting.
      for (const session of sessions) session.destroy()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
