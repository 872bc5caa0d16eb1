/**
 * The Chat Completions parameter policy (app/doors/openai-chat/params.ts) is what the decoder
 * does: every refused value is refused with the row's message, every default passes, and each
 * mapped parameter sets the neutral field its row names.
 */
import t from 'tap'
import { decodeChatRequest } from '../../app/doors/openai-chat/decode.js'
import { CHAT_PARAMETER_POLICY, REFUSED_CHAT_PARAMETERS } from '../../app/doors/openai-chat/params.js'
import { ApiError } from '../../app/errors.js'
import type { CatalogModel } from '../../app/schemas/catalog.js'
import type { ChatCompletionRequest } from '../../app/schemas/chat.js'

const model = {
  id: 'test-model',
  maxOutputTokens: 4096,
  capabilities: { tools: true, vision: true, reasoning: 'effort' },
} as unknown as CatalogModel
const base = { model: 'test-model', messages: [{ role: 'user', content: 'hi' }] } as ChatCompletionRequest
const decode = (extra: Record<string, unknown>) =>
  decodeChatRequest({ ...base, ...extra } as ChatCompletionRequest, model)

/** A refused value and an accepted one per refused parameter. */
const SAMPLES: Record<string, [refused: unknown, accepted: unknown]> = {
  n: [2, 1],
  logprobs: [true, false],
  top_logprobs: [1, 0],
  presence_penalty: [0.5, 0],
  frequency_penalty: [-1, 0],
  logit_bias: [{ '50256': -100 }, {}],
}

t.test('each refusal of the table is enforced with its message, param and code', async (t) => {
  t.same(REFUSED_CHAT_PARAMETERS.map(([p]) => p).sort(), Object.keys(SAMPLES).sort(), 'a sample per refusal')
  for (const [param, refusal] of REFUSED_CHAT_PARAMETERS) {
    const [refused, accepted] = SAMPLES[param]!
    const e = t.throws(() => decode({ [param]: refused })) as ApiError
    t.ok(e instanceof ApiError, param)
    t.match(e, { status: 400, code: 'unsupported_parameter', param, message: refusal.message })
    t.doesNotThrow(() => decode({ [param]: accepted }), `${param}: ${JSON.stringify(accepted)} passes`)
    t.doesNotThrow(() => decode({ [param]: null }), `${param}: null passes`)
  }
})

t.test('the first refused parameter in table order is the one named', async (t) => {
  const e = t.throws(() => decode({ logit_bias: { a: 1 }, n: 3, logprobs: true })) as ApiError
  t.equal(e.param, 'n')
})

t.test('a planted refusal in the table is enforced (the decoder reads the table)', async (t) => {
  const row = REFUSED_CHAT_PARAMETERS.find(([p]) => p === 'n')![1]
  const when = row.when
  row.when = () => true
  t.teardown(() => {
    row.when = when
  })
  t.throws(() => decode({ n: 1 }), { param: 'n', message: row.message })
})

t.test('mapped parameters set the neutral field their row names', async (t) => {
  const values: Record<string, unknown> = {
    max_tokens: 100,
    max_completion_tokens: 200,
    temperature: 0.5,
    top_p: 0.9,
    stop: ['END'],
    tools: [{ type: 'function', function: { name: 'f' } }],
    tool_choice: 'required',
    response_format: { type: 'json_object' },
    reasoning_effort: 'low',
  }
  const extra: Record<string, unknown> = { tool_choice: { tools: values.tools } }
  const without = decode({}) as unknown as Record<string, unknown>
  for (const [param, p] of Object.entries(CHAT_PARAMETER_POLICY)) {
    if (!('to' in p) || !(param in values)) continue
    const call = decode({ ...(extra[param] as object), [param]: values[param] }) as unknown as Record<string, unknown>
    t.ok(call[p.to] !== undefined && call[p.to] !== without[p.to], `${param} → ${p.to}`)
  }
  const parallel = decode({ tools: values.tools, tool_choice: 'auto', parallel_tool_calls: false })
  t.same(parallel.toolChoice, { type: 'auto', disableParallel: true }, 'parallel_tool_calls → toolChoice')
})

t.test('ignored parameters leave the call as it was', async (t) => {
  const plain = decode({})
  for (const [param, p] of Object.entries(CHAT_PARAMETER_POLICY)) {
    if (p.handling !== 'ignored') continue
    t.same(decode({ [param]: param === 'seed' ? 42 : 'someone' }), plain, param)
  }
})
