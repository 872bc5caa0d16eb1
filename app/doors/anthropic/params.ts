/**
 * How the Messages door handles each request field: the table in docs/api-and-parameters.md is
 * generated from it (`npm run docs:generate`). Kept apart from the decoder so the door's chunk
 * does not carry the prose. Server tools and MCP connector blocks are refused with a 400 naming
 * them: the gateway cannot run them.
 * https://docs.anthropic.com/en/api/messages
 */
export const MESSAGES_PARAMETER_POLICY: Record<string, string> = {
  model:
    'Anthropic ids, dated ids and aliases → the catalog model; an unlisted ' +
    '`claude-<family>-…` id → the newest served model of that family (header ' +
    '`x-pennyworth-model-fallback`, switch: `PENNYWORTH_ANTHROPIC_MODEL_FALLBACK=off`); ' +
    '`[1m]` suffix dropped (no long-context variant in the catalog), named in the same ' +
    'header.',
  max_tokens: "Required; → `maxTokens` (400 above the model's maximum output, clamped when the model was substituted).",
  messages:
    'text, image (base64), document (PDF/text, base64 or text), tool_use, tool_result ' +
    '(string or text/image/document blocks, `is_error`), thinking (with signature) and ' +
    'redacted_thinking; `cache_control` on any block → a cache point after it. ' +
    'Image/document URLs and files → 400.',
  system:
    'String or text blocks with `cache_control`; `system` messages inside `messages` ' +
    'join it in order (Converse has one system prompt).',
  stop_sequences: '→ `stopSequences`.',
  temperature: '→ `temperature`.',
  top_p: '→ `topP`.',
  top_k: '→ `top_k` (additional model field).',
  stream: '`true` → ConverseStream, Anthropic SSE framing with pings.',
  tools:
    'Custom tools (`input_schema`, `cache_control`) → tool specs; server tools (web ' +
    'search, code execution, bash, text editor, computer use…) → 400 naming the type.',
  tool_choice: 'auto / any / tool / none; `disable_parallel_tool_use` → at most one tool call returned.',
  thinking:
    '`enabled` + `budget_tokens` → extended thinking; `adaptive` / `between_tools` → a ' +
    'budget of half of `max_tokens`; `disabled` → none.',
  metadata: '`user_id` is hashed into the request log; never sent upstream.',
  cache_control: 'Top-level (automatic caching): a cache point after the last block of the conversation.',
  output_config: '`format` json_schema → JSON output (a forced tool on Bedrock, returned as text); `effort` ignored.',
  mcp_servers: 'Non-empty → 400: the MCP connector does not run through Bedrock here.',
  'context_management / service_tier / container / thinking.display': 'Ignored.',
  'anthropic-version / anthropic-beta / ?beta=true': 'Accepted and ignored.',
}
