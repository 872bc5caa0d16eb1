import t from 'tap'
import type { ContentBlock, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../../app/errors.js'
import { fromConverseOutput, mapStopReason, toUsage } from '../../helpers/openai-over-bedrock.js'
import { chatReq, user } from '../../fixtures/bedrock.js'

const out = (
  content: ContentBlock[],
  stopReason: string,
  usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
): ConverseCommandOutput => ({
  output: { message: { role: 'assistant', content } },
  stopReason: stopReason as ConverseCommandOutput['stopReason'],
  usage,
  metrics: { latencyMs: 100 },
  $metadata: {},
})
const tool = (name: string) => ({ type: 'function' as const, function: { name } })
const plain = chatReq({ messages: [user('hi')] })

t.test('a text answer', async (t) => {
  const r = fromConverseOutput(out([{ text: 'Hello' }, { text: ' there' }], 'end_turn'), plain)
  t.same(r.completion, {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1700000000,
    model: 'claude-sonnet-4-5',
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello there', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
  })
  t.same(r.tokens, { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 })
  t.notOk('reasoning_content' in r.completion.choices[0].message)
  t.notOk('tool_calls' in r.completion.choices[0].message)
})

t.test('stop reasons → finish_reason', async (t) => {
  const cases: Array<[string, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
    ['tool_use', 'stop'],
    ['something_new', 'stop'],
  ]
  for (const [reason, finish] of cases) {
    t.equal(fromConverseOutput(out([{ text: 'x' }], reason), plain).completion.choices[0].finish_reason, finish, reason)
  }
  t.equal(mapStopReason('end_turn', true), 'tool_calls')
  t.equal(mapStopReason(undefined, false), 'stop')
  for (const reason of ['malformed_model_output', 'malformed_tool_use']) {
    t.throws(
      () => fromConverseOutput(out([{ text: 'x' }], reason), plain),
      { status: 502, code: 'upstream_malformed_output', type: 'api_error' },
      reason,
    )
  }
})

t.test('empty answer: content is an empty string', async (t) => {
  t.equal(fromConverseOutput(out([], 'end_turn'), plain).completion.choices[0].message.content, '')
  t.equal(
    fromConverseOutput(
      { stopReason: 'end_turn', usage: undefined, output: undefined, metrics: undefined, $metadata: {} },
      plain,
    ).completion.choices[0].message.content,
    '',
  )
})

t.test('tool calls: ids, names, JSON arguments, text before kept', async (t) => {
  const req = chatReq({ messages: [user('x')], tools: [tool('a'), tool('b')] })
  const r = fromConverseOutput(
    out(
      [
        { text: 'Let me check.' },
        { toolUse: { toolUseId: 'tooluse_1', name: 'a', input: { city: 'Oslo', n: [1, 2] } } },
        { toolUse: { toolUseId: 'tooluse_2', name: 'b', input: {} } },
        { toolUse: { toolUseId: 'tooluse_3', name: 'b', input: undefined } },
      ],
      'tool_use',
    ),
    req,
  )
  const choice = r.completion.choices[0]
  t.equal(choice.finish_reason, 'tool_calls')
  t.equal(choice.message.content, 'Let me check.')
  t.same(choice.message.tool_calls, [
    { id: 'tooluse_1', type: 'function', function: { name: 'a', arguments: '{"city":"Oslo","n":[1,2]}' } },
    { id: 'tooluse_2', type: 'function', function: { name: 'b', arguments: '{}' } },
    { id: 'tooluse_3', type: 'function', function: { name: 'b', arguments: '{}' } },
  ])
  const only = fromConverseOutput(out([{ toolUse: { toolUseId: 'x', name: 'a', input: {} } }], 'tool_use'), req)
  t.equal(only.completion.choices[0].message.content, null, 'no text with tool calls → null content')
})

t.test('parallel_tool_calls false keeps the first call; tool_choice none drops all', async (t) => {
  const calls: ContentBlock[] = [
    { toolUse: { toolUseId: '1', name: 'a', input: {} } },
    { toolUse: { toolUseId: '2', name: 'a', input: {} } },
  ]
  const one = fromConverseOutput(
    out(calls, 'tool_use'),
    chatReq({ messages: [user('x')], tools: [tool('a')], parallel_tool_calls: false }),
  )
  t.same(
    one.completion.choices[0].message.tool_calls!.map((c) => c.id),
    ['1'],
  )
  const none = fromConverseOutput(
    out([{ text: 'Answer.' }, ...calls], 'tool_use'),
    chatReq({ messages: [user('x')], tools: [tool('a')], tool_choice: 'none' }),
  )
  t.notOk('tool_calls' in none.completion.choices[0].message)
  t.equal(none.completion.choices[0].finish_reason, 'stop')
  t.equal(none.completion.choices[0].message.content, 'Answer.')
})

t.test('reasoning blocks → reasoning_content, never in content', async (t) => {
  const r = fromConverseOutput(
    out(
      [
        { reasoningContent: { reasoningText: { text: 'Let me think. ', signature: 'sig' } } },
        { reasoningContent: { reasoningText: { text: 'Done.' } } },
        { reasoningContent: { redactedContent: new Uint8Array([1, 2]) } },
        { text: '42' },
      ],
      'end_turn',
    ),
    plain,
  )
  t.same(r.completion.choices[0].message, {
    role: 'assistant',
    content: '42',
    refusal: null,
    reasoning_content: 'Let me think. Done.',
  })
})

t.test('JSON mode: the forced tool input is the content', async (t) => {
  const req = chatReq({
    messages: [user('x')],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
  })
  const r = fromConverseOutput(
    out([{ text: 'Sure:' }, { toolUse: { toolUseId: 'j', name: 'answer', input: { a: 1, b: 'x' } } }], 'tool_use'),
    req,
  )
  t.same(r.completion.choices[0].message, { role: 'assistant', content: '{"a":1,"b":"x"}', refusal: null })
  t.equal(r.completion.choices[0].finish_reason, 'stop')
  const cut = fromConverseOutput(
    out([{ toolUse: { toolUseId: 'j', name: 'answer', input: undefined } }], 'max_tokens'),
    req,
  )
  t.equal(cut.completion.choices[0].message.content, '{}')
  t.equal(cut.completion.choices[0].finish_reason, 'length')
  const prose = fromConverseOutput(out([{ text: '{"a":2}' }], 'end_turn'), req)
  t.equal(prose.completion.choices[0].message.content, '{"a":2}', 'no tool call: the text is kept')
})

t.test('JSON mode with tools: a real tool call is a tool call', async (t) => {
  const req = chatReq({ messages: [user('x')], tools: [tool('lookup')], response_format: { type: 'json_object' } })
  const r = fromConverseOutput(
    out([{ toolUse: { toolUseId: 't', name: 'lookup', input: { q: 'x' } } }], 'tool_use'),
    req,
  )
  t.equal(r.completion.choices[0].finish_reason, 'tool_calls')
  t.equal(r.completion.choices[0].message.content, null)
  t.same(r.completion.choices[0].message.tool_calls, [
    { id: 't', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
  ])
  const final = fromConverseOutput(
    out([{ toolUse: { toolUseId: 'j', name: 'json_response', input: { ok: true } } }], 'tool_use'),
    req,
  )
  t.equal(final.completion.choices[0].finish_reason, 'stop')
  t.equal(final.completion.choices[0].message.content, '{"ok":true}')
})

t.test('usage: cached tokens count as prompt tokens', async (t) => {
  const r = fromConverseOutput(
    out([{ text: 'x' }], 'end_turn', {
      inputTokens: 20,
      outputTokens: 7,
      totalTokens: 1527,
      cacheReadInputTokens: 1000,
      cacheWriteInputTokens: 500,
    } as never),
    plain,
  )
  t.same(r.completion.usage, {
    prompt_tokens: 1520,
    completion_tokens: 7,
    total_tokens: 1527,
    prompt_tokens_details: { cached_tokens: 1000 },
  })
  t.same(r.tokens, { inputTokens: 20, outputTokens: 7, cacheReadTokens: 1000, cacheWriteTokens: 500 })
  t.notOk(
    'completion_tokens_details' in r.completion.usage,
    'reasoning tokens are not reported by Bedrock: omitted, not invented',
  )
  t.same(toUsage(undefined).tokens, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 })
  t.ok(ApiError)
})
