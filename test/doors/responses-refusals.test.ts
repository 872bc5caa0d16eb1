/**
 * The Responses door refuses exactly what RESPONSES_REFUSALS lists, with its messages, and the
 * docs' parameter table (RESPONSES_PARAMETER_POLICY) documents each of them as a 400.
 */
import t from 'tap'
import { checkResponsesRequest } from '../../app/doors/openai-responses/decode.js'
import { RESPONSES_PARAMETER_POLICY } from '../../app/doors/openai-responses/params.js'
import { RESPONSES_REFUSALS } from '../../app/doors/openai-responses/refusals.js'
import type { ResponsesRequest } from '../../app/schemas/responses.js'

const check = (extra: Record<string, unknown>) =>
  checkResponsesRequest({ model: 'm', input: 'hi', ...extra } as unknown as ResponsesRequest)

const SAMPLES: Record<string, [refused: unknown, accepted: unknown]> = {
  background: [true, false],
  conversation: ['conv_1', null],
  prompt: [{ id: 'pmpt_1' }, null],
  top_logprobs: [2, 0],
}

t.test('each refusal is enforced with its message and param; the default passes', async (t) => {
  t.same(Object.keys(RESPONSES_REFUSALS), Object.keys(SAMPLES))
  for (const [field, refusal] of Object.entries(RESPONSES_REFUSALS)) {
    const [refused, accepted] = SAMPLES[field]!
    t.throws(() => check({ [field]: refused }), {
      status: 400,
      code: 'unsupported_parameter',
      param: field,
      message: refusal.message,
    })
    t.doesNotThrow(() => check({ [field]: accepted }), field)
  }
})

t.test('every refused field is documented as a 400', async (t) => {
  for (const field of Object.keys(RESPONSES_REFUSALS)) t.match(RESPONSES_PARAMETER_POLICY[field], /→ 400/, field)
})
