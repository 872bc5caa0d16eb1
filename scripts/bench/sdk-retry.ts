/**
 * The Bedrock SDK's own retry against this gateway's (`npx tsx scripts/bench/sdk-retry.ts`): one
 * Converse call against an upstream that always throttles, (a) with the SDK's default standard
 * retry (what clients.ts used before, maxAttempts 3) and (b) with maxAttempts 1 + the services'
 * UpstreamRetry (defaults: 2 retries, full jitter from 250 ms, 10 s budget); then the same with
 * `retry-after: 30`. Prints attempts and wall time per call (median of 5). Not a test.
 */
import '../../app/lib/sdk-node-warning.js'
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import { createBedrockClient } from '../../app/clients.js'
import { mapBedrockError } from '../../app/providers/bedrock/errors.js'
import { UpstreamRetry } from '../../app/services/upstream-retry.js'
import { startBedrockServer } from '../../test/helpers/bedrock-server.js'

let retryAfter: string | undefined
const server = await startBedrockServer(() =>
  retryAfter
    ? { raw: { status: 429, contentType: 'text/plain', body: 'slow down', headers: { 'retry-after': retryAfter } } }
    : { error: { type: 'ThrottlingException', message: 'Too many requests' } },
)
const credentials = { accessKeyId: 'A', secretAccessKey: 'B' }
const input = { modelId: 'm', messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }] }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function measure(name: string, once: () => Promise<unknown>) {
  const times: number[] = []
  const attempts: number[] = []
  for (let i = 0; i < 5; i++) {
    const before = server.calls.length
    const t0 = performance.now()
    await once().catch(() => {})
    times.push(performance.now() - t0)
    attempts.push(server.calls.length - before)
  }
  console.log(`${name}: ${median(attempts)} attempts, ${Math.round(median(times))} ms (median of 5)`)
}

const sdkDefault = createBedrockClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 3 })
const single = createBedrockClient({ endpoint: server.url, region: 'us-east-1', credentials })
const retry = new UpstreamRetry()
const signal = new AbortController().signal
const ours = () =>
  retry.run(
    () => single.send(new ConverseCommand(input)).catch((e: unknown) => Promise.reject(mapBedrockError(e))),
    { signal, log: { warn() {} } },
    retry.deadline(),
    'm',
  )
for (const hint of [undefined, '30']) {
  retryAfter = hint
  const label = hint ? ' (retry-after: 30)' : ''
  await measure(`SDK standard retry, maxAttempts 3${label}`, () => sdkDefault.send(new ConverseCommand(input)))
  await measure(`maxAttempts 1 + UpstreamRetry${label}`, ours)
}
sdkDefault.destroy()
single.destroy()
await server.close()
