/**
 * Responses fields this gateway knows but cannot honour, and the values it refuses (400
 * `unsupported_parameter` naming the field). The decoder reads them from here in this order; the
 * prose for the docs is in params.ts, and test/doors/responses-refusals.test.ts checks that every
 * field refused here is documented as a 400 there.
 * https://platform.openai.com/docs/api-reference/responses/create
 */
import type { Refusal } from '../openai-chat/params.js'

/** Refused fields, in the order the decoder checks them (null and absent are never refused). */
export const RESPONSES_REFUSALS: Readonly<Record<string, Refusal<unknown>>> = {
  background: {
    when: (v) => v === true,
    condition: '`true`',
    message: 'background mode is not supported by this gateway; send the request without `background` (or stream it).',
  },
  conversation: {
    when: () => true,
    condition: 'set',
    message: 'The Conversations API is not supported by this gateway; chain turns with `previous_response_id` instead.',
  },
  prompt: {
    when: () => true,
    condition: 'set',
    message: 'Stored prompt templates (`prompt`) are not supported by this gateway; send `instructions` and `input`.',
  },
  top_logprobs: {
    when: (v) => (v as number) > 0,
    condition: '`> 0`',
    message: 'top_logprobs is not supported: Bedrock does not return token log probabilities.',
  },
}
