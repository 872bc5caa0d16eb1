/**
 * How the Responses door handles each request field: the table in docs/api-and-parameters.md is
 * generated from it (`npm run docs:generate`). Kept apart from the decoder so the prose is not in
 * the door's chunk; the refusals the decoder enforces are RESPONSES_REFUSALS (refusals.ts).
 * https://platform.openai.com/docs/api-reference/responses/create
 */
export const RESPONSES_PARAMETER_POLICY: Record<string, string> = {
  model: 'Catalog name or alias → the Bedrock model (as on the chat door).',
  input:
    'String (one user message) or items: `message` (user / assistant / system / ' +
    'developer; input_text, input_image as a base64 data URL, input_file as `file_data`, ' +
    'output_text, refusal), `function_call`, `function_call_output`, `reasoning` (this ' +
    "gateway's own, from `encrypted_content`; others dropped), `item_reference` (items " +
    'of your stored responses). Other item types, `file_id`s and URLs → 400.',
  instructions: '→ system prompt of this turn (not carried to later turns, as OpenAI).',
  max_output_tokens:
    "→ `maxTokens` (400 above the model's maximum); hitting it → `status: incomplete`, " +
    '`incomplete_details.reason: max_output_tokens`.',
  temperature: '→ `temperature` (0–2); 400 with reasoning on Claude unless 1.',
  top_p: '→ `topP`; 400 with reasoning on Claude unless 1.',
  tools:
    'Function tools (`parameters` → input schema; `strict` accepted, the schema is ' +
    'passed as is); `namespace` tools are flattened (calls carry their `namespace` ' +
    'back); built-in tools (web_search, file_search, code_interpreter, computer_use, ' +
    'image_generation, mcp, shell, apply_patch, custom…) → 400 naming the tool.',
  tool_choice: 'auto / none / required (→ any) / `{type: function, name}`; other forms → 400.',
  parallel_tool_calls: '`false` → at most one function call returned.',
  text:
    '`format`: text, json_object, json_schema → JSON output (a forced tool on Bedrock, ' +
    'returned as output_text); `verbosity` ignored.',
  reasoning:
    '`effort` (minimal / low / medium / high; xhigh = high; none = off) as the chat ' +
    "door's `reasoning_effort`; reasoning text comes back as summary text (streamed as " +
    'reasoning_summary_text), its signature in `encrypted_content`. `summary` accepted.',
  store:
    'Default true: the response and its input items are kept (DynamoDB, ' +
    '`PENNYWORTH_RESPONSES_TTL_DAYS`, default 30) for `previous_response_id`, GET, ' +
    'input_items; `false` stores nothing.',
  previous_response_id:
    "Rebuilds the conversation from the stored chain (your key's responses only); " +
    'unknown, expired, deleted or foreign → 404.',
  stream: '`true` → ConverseStream, Responses events with `sequence_number`.',
  metadata: 'Echoed and stored.',
  'user / safety_identifier': 'Hashed into the request log; never sent upstream.',
  truncation:
    '`disabled` / `auto` accepted; nothing is truncated (a conversation over the context window fails upstream).',
  include: 'Accepted; `encrypted_content` is always filled where there is signed reasoning.',
  top_logprobs: '> 0 → 400: Bedrock returns no log probabilities.',
  background: '`true` → 400: background mode is not supported.',
  conversation: 'Set → 400: the Conversations API is not supported (use `previous_response_id`).',
  prompt: 'Set → 400: stored prompt templates are not supported.',
  'service_tier / prompt_cache_key / prompt_cache_retention / stream_options / client_metadata / context_management':
    'Ignored.',
}
