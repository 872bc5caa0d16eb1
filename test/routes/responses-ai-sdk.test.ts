/**
 * The Vercel AI SDK's default OpenAI provider (`openai(model)` = the Responses API) through the
 * gateway: generateText, streamText, a multi-step tool loop (the SDK chains steps with stored
 * items and item references), generateObject. Bedrock is the wire-protocol test server.
 */
import t from 'tap'
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { startGateway } from '../helpers/app.js'
import {
  converseTextResponse,
  converseToolUseResponse,
  lastUserText,
  textStreamFrames,
  type BedrockHandler,
} from '../helpers/bedrock-server.js'

let handler: BedrockHandler = () => ({ json: converseTextResponse('unused') })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const openai = createOpenAI({ apiKey: gw.key, baseURL: `${gw.url}/v1` })
const model = openai('claude-sonnet-4-5')
const last = () => gw.bedrock.calls.at(-1)!

t.test('generateText', async (t) => {
  handler = (call) => ({
    json: converseTextResponse(`echo ${lastUserText(call.body)}`, { usage: { inputTokens: 7, outputTokens: 2 } }),
  })
  const res = await generateText({ model, system: 'Be brief.', prompt: 'Hello there' })
  t.equal(res.text, 'echo Hello there')
  t.equal(res.finishReason, 'stop')
  t.equal(res.usage.inputTokens, 7)
  t.equal(res.usage.outputTokens, 2)
  t.match(res.response.id, /^resp_/)
  t.same(last().body.system, [{ text: 'Be brief.' }])
})

t.test('streamText', async (t) => {
  handler = () => ({ frames: textStreamFrames(['Hel', 'lo ', 'world'], { delayMs: 10 }) })
  const res = streamText({ model, prompt: 'q' })
  const parts: string[] = []
  for await (const p of res.textStream) parts.push(p)
  t.same(parts, ['Hel', 'lo ', 'world'])
  t.equal(await res.text, 'Hello world')
  t.equal(await res.finishReason, 'stop')
  t.equal(last().operation, 'converse-stream')
})

t.test('a multi-step tool loop', async (t) => {
  let step = 0
  handler = (call) => {
    step++
    if (step === 1)
      return {
        json: converseToolUseResponse([{ toolUseId: 'tooluse_W1', name: 'weather', input: { city: 'Paris' } }], {
          text: 'Checking.',
        }),
      }
    const results = JSON.stringify(call.body.messages.at(-1).content)
    return { json: converseTextResponse(results.includes('21C') ? 'Paris: sunny, 21C.' : 'no tool result seen') }
  }
  const calls: string[] = []
  const res = await generateText({
    model,
    prompt: 'Weather in Paris?',
    tools: {
      weather: tool({
        description: 'Weather of a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          calls.push(city)
          return `${city}: sunny, 21C`
        },
      }),
    },
    stopWhen: stepCountIs(4),
  })
  t.same(calls, ['Paris'])
  t.equal(res.steps.length, 2)
  t.equal(res.text, 'Paris: sunny, 21C.')
  const sent = last().body.messages
  t.same(
    sent.map((m: { role: string }) => m.role),
    ['user', 'assistant', 'user'],
  )
  t.match(sent[1].content, [
    { text: 'Checking.' },
    { toolUse: { toolUseId: 'tooluse_W1', name: 'weather', input: { city: 'Paris' } } },
  ])
  t.match(sent[2].content[0], { toolResult: { toolUseId: 'tooluse_W1' } })
})

t.test('generateObject (json_schema)', async (t) => {
  handler = (call) => {
    const name = call.body.toolConfig.tools[0].toolSpec.name
    return { json: converseToolUseResponse([{ toolUseId: 'tooluse_O', name, input: { name: 'Ada', age: 36 } }]) }
  }
  const res = await generateObject({
    model,
    schema: z.object({ name: z.string(), age: z.number() }),
    prompt: 'Ada, 36',
  })
  t.same(res.object, { name: 'Ada', age: 36 })
  t.ok(last().body.toolConfig.toolChoice.tool, 'a forced JSON tool upstream')
})
