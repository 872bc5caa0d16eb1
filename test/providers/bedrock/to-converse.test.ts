import t, { type Test } from 'tap'
import { ApiError } from '../../../app/errors.js'
import {
  CHAT_PARAMETER_POLICY,
  JSON_TOOL_DEFAULT_NAME,
  THINKING_BUDGETS,
  noToolsInstruction,
  outputPlan,
  toConverseInput,
} from '../../helpers/openai-over-bedrock.js'
import type { ChatRequest } from '../../helpers/openai-over-bedrock.js'
import { PNG_B64, chatReq, user } from '../../fixtures/bedrock.js'

const KEY = { keyId: 'key_123' }
const conv = (req: ChatRequest) => toConverseInput(req, KEY)

function fails(tt: Test, req: ChatRequest, param: string | null, code?: string) {
  let err: unknown
  try {
    conv(req)
  } catch (e) {
    err = e
  }
  tt.ok(err instanceof ApiError, 'throws an ApiError')
  const e = err as ApiError
  tt.equal(e.status, 400)
  tt.equal(e.type, 'invalid_request_error')
  tt.equal(e.param, param)
  if (code) tt.equal(e.code, code)
  return e
}

const tool = (name: string, parameters?: Record<string, unknown>, extra: object = {}) => ({
  type: 'function' as const,
  function: { name, description: `does ${name}`, ...(parameters ? { parameters } : {}) },
  ...extra,
})
const call = (id: string, name: string, args = '{}') => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
})

t.test('basic request: model id, system/developer, metadata, no empty sections', async (t) => {
  const input = conv(
    chatReq({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use British spelling.' }] },
        user('Hello'),
      ],
    }),
  )
  t.same(input, {
    modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
    system: [{ text: 'Be brief.' }, { text: 'Use British spelling.' }],
    requestMetadata: { keyId: 'key_123' },
  })
  t.notOk('inferenceConfig' in input)
  t.notOk('toolConfig' in input)
  t.notOk('additionalModelRequestFields' in input)
})

t.test('system messages later in the conversation still go to system; consecutive turns merge', async (t) => {
  const input = conv(
    chatReq({
      messages: [
        user('a'),
        { role: 'system', content: 'late rule' },
        user('b'),
        { role: 'assistant', content: 'c' },
        { role: 'assistant', content: [{ type: 'text', text: 'd' }] },
        user('e'),
      ],
    }),
  )
  t.same(input.system, [{ text: 'late rule' }])
  t.same(input.messages, [
    { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
    { role: 'assistant', content: [{ text: 'c' }, { text: 'd' }] },
    { role: 'user', content: [{ text: 'e' }] },
  ])
})

t.test('conversation must start with a user turn', async (t) => {
  fails(
    t,
    chatReq({ messages: [{ role: 'system', content: 's' }, { role: 'assistant', content: 'hi' }, user('x')] }),
    'messages',
    'invalid_message_order',
  )
  fails(t, chatReq({ messages: [{ role: 'system', content: 'only system' }] }), 'messages', 'missing_user_message')
})

t.test('blank text: dropped where harmless, refused where it would leave nothing', async (t) => {
  const input = conv(
    chatReq({
      messages: [
        { role: 'system', content: '   ' },
        user('q1'),
        { role: 'assistant', content: '' }, // nothing to send: dropped, user turns merge
        {
          role: 'user',
          content: [
            { type: 'text', text: ' ' },
            { type: 'text', text: 'q2' },
          ],
        },
      ],
    }),
  )
  t.notOk('system' in input)
  t.same(input.messages, [{ role: 'user', content: [{ text: 'q1' }, { text: 'q2' }] }])
  fails(t, chatReq({ messages: [user('  \n')] }), 'messages[0].content', 'empty_content')
  fails(t, chatReq({ messages: [{ role: 'user', content: [] }] }), 'messages[0].content', 'empty_content')
})

t.test('assistant prefill: trailing whitespace trimmed (Anthropic rejects it)', async (t) => {
  const input = conv(chatReq({ messages: [user('count'), { role: 'assistant', content: '1, 2, ' }] }))
  t.same(input.messages![1], { role: 'assistant', content: [{ text: '1, 2,' }] })
})

t.test('assistant refusal parts are text; other assistant part types refused', async (t) => {
  const input = conv(
    chatReq({
      messages: [user('x'), { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' } as never] }, user('y')],
    }),
  )
  t.same(input.messages![1].content, [{ text: 'No.' }])
  fails(
    t,
    chatReq({
      messages: [user('x'), { role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'data:' } }] }],
    }),
    'messages[1].content[0]',
    'unsupported_content_part',
  )
})

t.test('inference parameters', async (t) => {
  const base = { messages: [user('x')] }
  t.same(conv(chatReq({ ...base, max_tokens: 100 })).inferenceConfig, { maxTokens: 100 })
  t.same(
    conv(chatReq({ ...base, max_tokens: 100, max_completion_tokens: 200 })).inferenceConfig,
    { maxTokens: 200 },
    'max_completion_tokens wins',
  )
  t.same(conv(chatReq({ ...base, temperature: 0.2, top_p: 0.9, stop: 'END' })).inferenceConfig, {
    temperature: 0.2,
    topP: 0.9,
    stopSequences: ['END'],
  })
  t.same(
    conv(chatReq({ ...base, stop: ['a', '', 'b'] })).inferenceConfig,
    { stopSequences: ['a', 'b'] },
    'empty stop strings dropped',
  )
  t.notOk('inferenceConfig' in conv(chatReq({ ...base, stop: [], temperature: null, max_tokens: null })))
  t.same(conv(chatReq({ ...base, temperature: 0 })).inferenceConfig, { temperature: 0 }, 'zero is a value')
  fails(t, chatReq({ ...base, max_tokens: 64001 }), 'max_tokens', 'max_tokens_too_large')
  fails(t, chatReq({ ...base, max_completion_tokens: 100000 }), 'max_completion_tokens', 'max_tokens_too_large')
})

t.test('parameter policy table: refused parameters are refused, ignored ones accepted', async (t) => {
  const samples: Record<string, unknown> = {
    n: 2,
    logprobs: true,
    top_logprobs: 3,
    presence_penalty: 0.5,
    frequency_penalty: -1,
    logit_bias: { '50256': -100 },
  }
  const refused = Object.entries(CHAT_PARAMETER_POLICY)
    .filter(([, p]) => p.handling === 'refused-when-set')
    .map(([k]) => k)
  t.same(refused.sort(), Object.keys(samples).sort(), 'every refused parameter has a sample')
  for (const param of refused) {
    const e = fails(t, chatReq({ messages: [user('x')], [param]: samples[param] }), param, 'unsupported_parameter')
    t.match(e.message, /not supported/)
  }
  // Neutral values of refused parameters and ignored parameters pass.
  const ok = conv(
    chatReq({
      messages: [user('x')],
      n: 1,
      logprobs: false,
      top_logprobs: 0,
      presence_penalty: 0,
      frequency_penalty: 0,
      logit_bias: {},
      user: 'end-user-1',
      seed: 42,
      parallel_tool_calls: true,
    }),
  )
  t.same(Object.keys(ok).sort(), ['messages', 'modelId', 'requestMetadata'])
  for (const [param, policy] of Object.entries(CHAT_PARAMETER_POLICY))
    t.ok(policy.note.length > 10, `${param} has a note`)
})

t.test('tools → toolConfig; tool_choice variants', async (t) => {
  const tools = [
    tool('get_weather', { type: 'object', properties: { city: { type: 'string' } } }),
    { type: 'function' as const, function: { name: 'now' } },
  ]
  const specs = [
    {
      toolSpec: {
        name: 'get_weather',
        description: 'does get_weather',
        inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    },
    { toolSpec: { name: 'now', inputSchema: { json: { type: 'object', properties: {} } } } },
  ]
  const base = { messages: [user('x')], tools }
  t.same(
    conv(chatReq(base)).toolConfig,
    { tools: specs, toolChoice: { auto: {} } },
    'default auto; default schema; no empty description',
  )
  t.same(conv(chatReq({ ...base, tool_choice: 'auto' })).toolConfig!.toolChoice, { auto: {} })
  t.same(conv(chatReq({ ...base, tool_choice: 'required' })).toolConfig!.toolChoice, { any: {} })
  t.same(
    conv(chatReq({ ...base, tool_choice: { type: 'function', function: { name: 'now' } } })).toolConfig!.toolChoice,
    { tool: { name: 'now' } },
  )
  const none = conv(chatReq({ ...base, tool_choice: 'none' }))
  t.notOk('toolConfig' in none, 'none without tool history: no toolConfig at all, the model cannot call tools')
  t.notOk('system' in none)
  fails(
    t,
    chatReq({ ...base, tool_choice: { type: 'function', function: { name: 'nope' } } }),
    'tool_choice',
    'unknown_tool',
  )
  fails(t, chatReq({ messages: [user('x')], tool_choice: 'required' }), 'tool_choice')
  t.notOk(
    'toolConfig' in conv(chatReq({ messages: [user('x')], tools: [], tool_choice: 'auto' })),
    'empty tools = no tools',
  )
  fails(t, chatReq(base, 'deepseek-r1'), 'tools', 'tools_not_supported')
})

t.test('assistant tool_calls → toolUse; tool messages → one user turn of toolResults', async (t) => {
  const input = conv(
    chatReq({
      tools: [tool('a'), tool('b')],
      messages: [
        user('do both'),
        { role: 'assistant', content: 'Calling.', tool_calls: [call('t1', 'a', '{"x":1}'), call('t2', 'b', '')] },
        { role: 'tool', tool_call_id: 't1', content: 'result one' },
        {
          role: 'tool',
          tool_call_id: 't2',
          content: [
            { type: 'text', text: 'r2a' },
            { type: 'text', text: 'r2b' },
          ],
        },
        user('thanks'),
      ],
    }),
  )
  t.same(input.messages, [
    { role: 'user', content: [{ text: 'do both' }] },
    {
      role: 'assistant',
      content: [
        { text: 'Calling.' },
        { toolUse: { toolUseId: 't1', name: 'a', input: { x: 1 } } },
        { toolUse: { toolUseId: 't2', name: 'b', input: {} } },
      ],
    },
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 't1', content: [{ text: 'result one' }] } },
        { toolResult: { toolUseId: 't2', content: [{ text: 'r2a' }, { text: 'r2b' }] } },
        { text: 'thanks' },
      ],
    },
  ])
})

t.test('tool result edge cases', async (t) => {
  const msgs = (toolMsg: object) => ({
    tools: [tool('a')],
    messages: [
      user('go'),
      { role: 'assistant' as const, content: null, tool_calls: [call('t1', 'a')] },
      toolMsg as never,
    ],
  })
  const empty = conv(chatReq(msgs({ role: 'tool', tool_call_id: 't1', content: '' })))
  t.same(
    empty.messages![2].content,
    [{ toolResult: { toolUseId: 't1', content: [{ text: '(empty)' }] } }],
    'blank result gets a placeholder',
  )
  fails(
    t,
    chatReq(msgs({ role: 'tool', tool_call_id: 'zzz', content: 'x' })),
    'messages[2].tool_call_id',
    'unknown_tool_call_id',
  )
  fails(
    t,
    chatReq(msgs({ role: 'tool', tool_call_id: 't1', content: [{ type: 'image_url', image_url: { url: 'x' } }] })),
    'messages[2].content[0]',
    'unsupported_content_part',
  )
  fails(
    t,
    chatReq({
      tools: [tool('a')],
      messages: [
        user('go'),
        { role: 'assistant', content: null, tool_calls: [call('t1', 'a'), call('t2', 'a')] },
        { role: 'tool', tool_call_id: 't1', content: 'x' },
        user('next'),
      ],
    }),
    'messages[1].tool_calls',
    'missing_tool_result',
  )
  fails(
    t,
    chatReq({
      tools: [tool('a')],
      messages: [user('go'), { role: 'assistant', content: null, tool_calls: [call('t1', 'a')] }],
    }),
    'messages[1].tool_calls',
    'missing_tool_result',
  )
  fails(
    t,
    chatReq({ messages: [user('go'), { role: 'tool', tool_call_id: 't1', content: 'x' }] }),
    'messages[1].tool_call_id',
  )
})

t.test('invalid tool call arguments → 400 naming the parameter', async (t) => {
  const req = (args: string) =>
    chatReq({
      tools: [tool('a')],
      messages: [
        user('go'),
        { role: 'assistant', content: null, tool_calls: [call('t1', 'a', args)] },
        { role: 'tool', tool_call_id: 't1', content: 'x' },
      ],
    })
  fails(t, req('{not json'), 'messages[1].tool_calls[0].function.arguments', 'invalid_tool_arguments')
  fails(t, req('[1,2]'), 'messages[1].tool_calls[0].function.arguments', 'invalid_tool_arguments')
  fails(t, req('"str"'), 'messages[1].tool_calls[0].function.arguments')
  t.same(conv(req('  ')).messages![1].content, [{ toolUse: { toolUseId: 't1', name: 'a', input: {} } }])
})

t.test('tool_choice none with tool calls in the history keeps a valid toolConfig', async (t) => {
  const history = [
    user('weather?'),
    { role: 'assistant' as const, content: null, tool_calls: [call('t1', 'get_weather', '{"city":"Oslo"}')] },
    { role: 'tool' as const, tool_call_id: 't1', content: '12C' },
  ]
  const withTools = conv(
    chatReq({ messages: history, tools: [tool('get_weather'), tool('other')], tool_choice: 'none' }),
  )
  t.same(withTools.toolConfig!.toolChoice, { auto: {} })
  t.same(
    withTools.toolConfig!.tools!.map((x) => x.toolSpec!.name),
    ['get_weather', 'other'],
    "client's specs kept",
  )
  t.same(withTools.system, [{ text: noToolsInstruction(['get_weather', 'other']) }])
  t.same(
    outputPlan(chatReq({ messages: history, tools: [tool('get_weather')], tool_choice: 'none' }).body).maxToolCalls,
    0,
    'calls are dropped on the way out',
  )

  const noTools = conv(chatReq({ messages: history }))
  t.same(
    noTools.toolConfig,
    {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Used earlier in this conversation; not available now.',
            inputSchema: { json: { type: 'object', properties: {} } },
          },
        },
      ],
      toolChoice: { auto: {} },
    },
    'no tools given: stand-in specs named after the history',
  )
  t.same(noTools.system, [{ text: noToolsInstruction(['get_weather']) }])

  const partial = conv(chatReq({ messages: history, tools: [tool('other')], tool_choice: 'none' }))
  t.same(
    partial.toolConfig!.tools!.map((x) => x.toolSpec!.name),
    ['other', 'get_weather'],
    'history tools missing from tools get stand-ins',
  )
  fails(t, chatReq({ messages: history }, 'deepseek-r1'), 'messages', 'tools_not_supported')
})

t.test('vision: data URLs → image blocks; URLs and non-vision models refused', async (t) => {
  const img = (url: string) => ({
    role: 'user' as const,
    content: [
      { type: 'text' as const, text: 'what is this?' },
      { type: 'image_url' as const, image_url: { url, detail: 'high' } },
    ],
  })
  const input = conv(chatReq({ messages: [img(`data:image/png;base64,${PNG_B64}`)] }))
  const block = input.messages![0].content![1] as { image: { format: string; source: { bytes: Uint8Array } } }
  t.equal(block.image.format, 'png')
  t.equal(block.image.source.bytes.constructor, Uint8Array, 'a plain Uint8Array')
  t.same(Buffer.from(block.image.source.bytes).toString('base64'), PNG_B64)
  for (const [mt, fmt] of [
    ['image/jpeg', 'jpeg'],
    ['image/jpg', 'jpeg'],
    ['image/gif', 'gif'],
    ['image/webp', 'webp'],
    ['IMAGE/PNG', 'png'],
  ]) {
    const b = conv(chatReq({ messages: [img(`data:${mt};base64,${PNG_B64}`)] })).messages![0].content![1] as {
      image: { format: string }
    }
    t.equal(b.image.format, fmt, mt)
  }
  fails(
    t,
    chatReq({ messages: [img('https://example.com/cat.png')] }),
    'messages[0].content[1]',
    'image_url_not_supported',
  )
  fails(
    t,
    chatReq({ messages: [img('http://example.com/cat.png')] }),
    'messages[0].content[1]',
    'image_url_not_supported',
  )
  fails(
    t,
    chatReq({ messages: [img(`data:image/bmp;base64,${PNG_B64}`)] }),
    'messages[0].content[1]',
    'invalid_image_format',
  )
  fails(t, chatReq({ messages: [img('data:image/png,rawbytes')] }), 'messages[0].content[1]', 'invalid_image_url')
  fails(t, chatReq({ messages: [img('data:image/png;base64,!!!')] }), 'messages[0].content[1]', 'invalid_image_url')
  fails(t, chatReq({ messages: [img('data:image/png;base64,')] }), 'messages[0].content[1]', 'invalid_image_url')
  fails(t, chatReq({ messages: [img('ftp://x')] }), 'messages[0].content[1]', 'invalid_image_url')
  const e = fails(
    t,
    chatReq({ messages: [img(`data:image/png;base64,${PNG_B64}`)] }, 'claude-3-5-haiku'),
    'messages[0].content[1]',
    'model_not_vision_capable',
  )
  t.match(e.message, /claude-3-5-haiku/)
})

t.test('other content part types → 400 naming them', async (t) => {
  for (const type of ['input_audio', 'file', 'video_url']) {
    const e = fails(
      t,
      chatReq({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type } as never] }] }),
      'messages[0].content[1]',
      'unsupported_content_part',
    )
    t.match(e.message, type)
  }
  fails(
    t,
    chatReq({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }, user('x')] }),
    'messages[0].content[0]',
    'unsupported_content_part',
  )
})

t.test('reasoning_effort on Claude: thinking budget, maxTokens > budget', async (t) => {
  const base = { messages: [user('think')] }
  for (const effort of ['minimal', 'low', 'medium', 'high'] as const) {
    const input = conv(chatReq({ ...base, reasoning_effort: effort }))
    const budget = THINKING_BUDGETS[effort]
    t.same(input.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: budget } }, effort)
    t.equal(input.inferenceConfig!.maxTokens, budget + 8192, `${effort}: answer room over the budget`)
  }
  t.same(THINKING_BUDGETS, { minimal: 1024, low: 2048, medium: 8192, high: 24576 })

  const big = conv(chatReq({ ...base, reasoning_effort: 'low', max_tokens: 10000 }))
  t.equal(
    big.inferenceConfig!.maxTokens,
    10000,
    'client max above the budget is kept (it includes reasoning, as in OpenAI)',
  )
  t.same(big.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } })

  const small = conv(chatReq({ ...base, reasoning_effort: 'medium', max_completion_tokens: 500 }))
  t.equal(small.inferenceConfig!.maxTokens, 8692, 'client max below the budget: the budget is added on top')

  const capped = conv(chatReq({ ...base, reasoning_effort: 'high', max_tokens: 20000 }, 'claude-opus-4-1'))
  t.equal(capped.inferenceConfig!.maxTokens, 32000, "capped by the model's max output")
  t.same(capped.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 24576 } })

  const tiny = conv(chatReq({ ...base, reasoning_effort: 'high' }, 'claude-sonnet-4-5', { maxOutputTokens: 4096 }))
  t.same(
    tiny.additionalModelRequestFields,
    { thinking: { type: 'enabled', budget_tokens: 4095 } },
    'budget capped below the model max',
  )
  t.equal(tiny.inferenceConfig!.maxTokens, 4096)
  fails(t, chatReq({ ...base, reasoning_effort: 'low' }, 'claude-sonnet-4-5', { maxOutputTokens: 1000 }), 'max_tokens')
})

t.test('reasoning_effort on Claude: sampling parameters and forced tools', async (t) => {
  const base = { messages: [user('think')], reasoning_effort: 'low' as const }
  fails(t, chatReq({ ...base, temperature: 0.3 }), 'temperature', 'unsupported_parameter')
  fails(t, chatReq({ ...base, top_p: 0.5 }), 'top_p', 'unsupported_parameter')
  const one = conv(chatReq({ ...base, temperature: 1, top_p: 1, stop: 'X' }))
  t.same(
    one.inferenceConfig,
    { maxTokens: 2048 + 8192, stopSequences: ['X'] },
    'temperature/top_p of 1 dropped (the thinking default)',
  )
  fails(t, chatReq({ ...base, response_format: { type: 'json_object' } }), 'reasoning_effort', 'unsupported_parameter')
  fails(t, chatReq({ ...base, tools: [tool('a')], tool_choice: 'required' }), 'reasoning_effort')
  fails(
    t,
    chatReq({ ...base, tools: [tool('a')], tool_choice: { type: 'function', function: { name: 'a' } } }),
    'reasoning_effort',
  )
  t.ok(conv(chatReq({ ...base, tools: [tool('a')] })).additionalModelRequestFields, 'auto tool choice is fine')
})

t.test(
  'reasoning_effort on Claude mid tool loop: thinking left off (no signed thinking block to return)',
  async (t) => {
    const input = conv(
      chatReq({
        reasoning_effort: 'medium',
        tools: [tool('a')],
        temperature: 1,
        messages: [
          user('go'),
          { role: 'assistant', content: null, tool_calls: [call('t1', 'a')] },
          { role: 'tool', tool_call_id: 't1', content: 'ok' },
        ],
      }),
    )
    t.notOk('additionalModelRequestFields' in input)
    const after = conv(
      chatReq({
        reasoning_effort: 'medium',
        tools: [tool('a')],
        messages: [
          user('go'),
          { role: 'assistant', content: null, tool_calls: [call('t1', 'a')] },
          { role: 'tool', tool_call_id: 't1', content: 'ok' },
          { role: 'assistant', content: 'done' },
          user('again'),
        ],
      }),
    )
    t.ok(after.additionalModelRequestFields, 'a new user turn starts a new loop: thinking back on')
  },
)

t.test('reasoning_effort on other model families', async (t) => {
  const base = { messages: [user('x')] }
  t.same(
    conv(chatReq({ ...base, reasoning_effort: 'high', temperature: 0.5 }, 'gpt-oss-120b')).additionalModelRequestFields,
    { reasoning_effort: 'high' },
  )
  t.same(conv(chatReq({ ...base, reasoning_effort: 'minimal' }, 'gpt-oss-20b')).additionalModelRequestFields, {
    reasoning_effort: 'low',
  })
  t.notOk(
    'additionalModelRequestFields' in conv(chatReq({ ...base, reasoning_effort: 'low' }, 'deepseek-r1')),
    'always-reasoning: ignored',
  )
  fails(t, chatReq({ ...base, reasoning_effort: 'low' }, 'nova-pro'), 'reasoning_effort', 'unsupported_parameter')
  fails(t, chatReq({ ...base, reasoning_effort: 'low' }, 'claude-3-5-haiku'), 'reasoning_effort')
  t.notOk('additionalModelRequestFields' in conv(chatReq({ ...base, reasoning_effort: null }, 'nova-pro')))
})

t.test('JSON output → a forced tool', async (t) => {
  const base = { messages: [user('give json')] }
  const obj = conv(chatReq({ ...base, response_format: { type: 'json_object' } }))
  t.same(obj.toolConfig, {
    tools: [
      {
        toolSpec: {
          name: JSON_TOOL_DEFAULT_NAME,
          description: 'Give your final answer by calling this tool: its input is your answer, as a JSON object.',
          inputSchema: { json: { type: 'object' } },
        },
      },
    ],
    toolChoice: { tool: { name: JSON_TOOL_DEFAULT_NAME } },
  })
  const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false }
  const js = conv(
    chatReq({
      ...base,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'math answer!', description: 'The result.', schema, strict: true },
      },
    }),
  )
  t.same(js.toolConfig, {
    tools: [
      {
        toolSpec: {
          name: 'math_answer_',
          description: 'Give your final answer by calling this tool. The result.',
          inputSchema: { json: schema },
        },
      },
    ],
    toolChoice: { tool: { name: 'math_answer_' } },
  })
  t.same(
    outputPlan(chatReq({ ...base, response_format: { type: 'json_schema', json_schema: { name: '...' } } }).body)
      .jsonTool,
    JSON_TOOL_DEFAULT_NAME,
    'unusable names fall back',
  )
  t.notOk('toolConfig' in conv(chatReq({ ...base, response_format: { type: 'text' } })))
  t.equal(outputPlan(chatReq({ ...base, response_format: { type: 'text' } }).body).jsonTool, null)
})

t.test('JSON output combined with tools', async (t) => {
  const base = { messages: [user('x')], tools: [tool('lookup')], response_format: { type: 'json_object' as const } }
  const auto = conv(chatReq(base))
  t.same(
    auto.toolConfig!.tools!.map((x) => x.toolSpec!.name),
    ['lookup', JSON_TOOL_DEFAULT_NAME],
  )
  t.same(auto.toolConfig!.toolChoice, { any: {} }, 'must call a tool or answer through the JSON tool')
  const required = conv(chatReq({ ...base, tool_choice: 'required' }))
  t.same(required.toolConfig, {
    tools: [
      {
        toolSpec: {
          name: 'lookup',
          description: 'does lookup',
          inputSchema: { json: { type: 'object', properties: {} } },
        },
      },
    ],
    toolChoice: { any: {} },
  })
  t.same(
    conv(chatReq({ ...base, tool_choice: { type: 'function', function: { name: 'lookup' } } })).toolConfig!.toolChoice,
    { tool: { name: 'lookup' } },
  )
  const none = conv(chatReq({ ...base, tool_choice: 'none' }))
  t.same(
    none.toolConfig!.tools!.map((x) => x.toolSpec!.name),
    [JSON_TOOL_DEFAULT_NAME],
    'none: only the JSON tool',
  )
  t.same(none.toolConfig!.toolChoice, { tool: { name: JSON_TOOL_DEFAULT_NAME } })
  fails(t, chatReq({ ...base, tools: [tool('json_response')] }), 'response_format')
})

t.test('outputPlan: tool-call limits', async (t) => {
  const m = [user('x')]
  t.equal(outputPlan(chatReq({ messages: m }).body).maxToolCalls, 0)
  t.equal(outputPlan(chatReq({ messages: m, tools: [tool('a')] }).body).maxToolCalls, Infinity)
  t.equal(outputPlan(chatReq({ messages: m, tools: [tool('a')], parallel_tool_calls: false }).body).maxToolCalls, 1)
  t.equal(outputPlan(chatReq({ messages: m, tools: [tool('a')], tool_choice: 'none' }).body).maxToolCalls, 0)
})

t.test('prompt caching: cache_control → cachePoint after the block', async (t) => {
  const cc = { cache_control: { type: 'ephemeral' } }
  const req = (modelId: string) =>
    chatReq(
      {
        tools: [tool('a', undefined, cc), tool('b')],
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'long rules', ...cc } as never] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'doc', cache_control: { type: 'ephemeral', ttl: '1h' } } as never,
              { type: 'text', text: 'question' },
            ],
          },
          { role: 'assistant', content: 'answer', ...cc } as never,
          { role: 'user', content: 'more', ...cc } as never,
        ],
      },
      modelId,
    )
  const input = conv(req('claude-sonnet-4-5'))
  t.same(input.system, [{ text: 'long rules' }, { cachePoint: { type: 'default' } }])
  t.same(input.messages, [
    { role: 'user', content: [{ text: 'doc' }, { cachePoint: { type: 'default', ttl: '1h' } }, { text: 'question' }] },
    { role: 'assistant', content: [{ text: 'answer' }, { cachePoint: { type: 'default' } }] },
    { role: 'user', content: [{ text: 'more' }, { cachePoint: { type: 'default' } }] },
  ])
  t.same(
    input.toolConfig!.tools!.map((x) => Object.keys(x)[0]),
    ['toolSpec', 'cachePoint', 'toolSpec'],
  )

  const plain = conv(req('llama3-3-70b'))
  t.same(plain.system, [{ text: 'long rules' }], 'no promptCaching: cache_control ignored')
  t.notOk(JSON.stringify(plain).includes('cachePoint'))

  const sysMsgLevel = conv(chatReq({ messages: [{ role: 'system', content: 'rules', ...cc } as never, user('x')] }))
  t.same(
    sysMsgLevel.system,
    [{ text: 'rules' }, { cachePoint: { type: 'default' } }],
    'message-level cache_control on a system message',
  )
  const tooling = conv(
    chatReq({
      tools: [tool('a')],
      messages: [
        user('go'),
        { role: 'assistant', content: null, tool_calls: [call('t1', 'a')] },
        { role: 'tool', tool_call_id: 't1', content: 'big result', ...cc } as never,
      ],
    }),
  )
  t.same(tooling.messages![2].content, [
    { toolResult: { toolUseId: 't1', content: [{ text: 'big result' }] } },
    { cachePoint: { type: 'default' } },
  ])
  const img = conv(
    chatReq({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` }, ...cc } as never,
            { type: 'text', text: 'x' },
          ],
        },
      ],
    }),
  )
  t.same(Object.keys(img.messages![0].content![1]), ['cachePoint'], 'after an image too')
  const blank = conv(
    chatReq({
      messages: [{ role: 'user', content: [{ type: 'text', text: ' ', ...cc } as never, { type: 'text', text: 'x' }] }],
    }),
  )
  t.same(blank.messages![0].content, [{ text: 'x' }], 'no cache point for a dropped block')
  const other = conv(
    chatReq({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'persistent' } } as never] },
      ],
    }),
  )
  t.same(other.messages![0].content, [{ text: 'x' }], 'only ephemeral is understood')
})

t.test('models without a system prompt get system text at the top of the first user turn', async (t) => {
  const input = conv(
    chatReq(
      { messages: [{ role: 'system', content: 'Rule one.' }, { role: 'developer', content: 'Rule two.' }, user('hi')] },
      'nova-lite',
      {
        capabilities: { streaming: true, tools: true, systemPrompt: false },
      },
    ),
  )
  t.notOk('system' in input)
  t.same(input.messages![0].content, [{ text: 'Rule one.\n\nRule two.' }, { text: 'hi' }])
})
