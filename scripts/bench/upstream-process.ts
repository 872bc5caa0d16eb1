/**
 * The benchmark's Bedrock stand-in in its own process (the real service is remote, so its CPU
 * must not be charged to the gateway under test): the wire-protocol test server answering
 * Converse with a short text and ConverseStream with 200 text deltas. Prints its URL on stdout.
 */
import { converseTextResponse, startBedrockServer, textStreamFrames } from '../../test/helpers/bedrock-server.js'

const pieces = Array.from({ length: 200 }, (_, i) => `w${i} `)
const server = await startBedrockServer((call) =>
  call.operation === 'converse-stream'
    ? { frames: textStreamFrames(pieces) }
    : { json: converseTextResponse('Hello there, nice to meet you.') },
)
process.stdout.write(`${server.url}\n`)
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
