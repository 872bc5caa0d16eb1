/**
 * The front doors' parameter tables in docs/api-and-parameters.md, rendered from the doors' own
 * policy tables (the Chat Completions one is also what the decoder enforces).
 */
import { CHAT_PARAMETER_POLICY } from '../../app/doors/openai-chat/params.js'
import { RESPONSES_PARAMETER_POLICY } from '../../app/doors/openai-responses/params.js'
import { MESSAGES_PARAMETER_POLICY } from '../../app/doors/anthropic/params.js'
import { markdownTable } from './regions.js'

/** What the docs show of a row. */
interface Row {
  support: string
  note: string
  refuse?: { condition: string; message: string }
}

/** A refused parameter's cell: when it is refused, why, and the message the client gets. */
function onBedrock(p: Row): string {
  if (!p.refuse) return p.note
  return `${p.refuse.condition} → 400 \`unsupported_parameter\` (${p.note}): *${p.refuse.message}*`
}

/** `| parameter | support | on Bedrock |`, one row per Chat Completions parameter. */
export function chatParametersTable(): string {
  const rows = Object.entries(CHAT_PARAMETER_POLICY as Readonly<Record<string, Row>>).map(([name, p]) => [
    `\`${name}\``,
    p.support,
    onBedrock(p),
  ])
  return markdownTable(['parameter', 'support', 'on Bedrock'], rows)
}

const fieldTable = (policy: Readonly<Record<string, string>>) =>
  markdownTable(
    ['field', 'on Bedrock'],
    Object.entries(policy).map(([field, note]) => [`\`${field}\``, note]),
  )

/** `| field | on Bedrock |` for the Responses door. */
export const responsesParametersTable = () => fieldTable(RESPONSES_PARAMETER_POLICY)

/** `| field | on Bedrock |` for the Messages door. */
export const messagesParametersTable = () => fieldTable(MESSAGES_PARAMETER_POLICY)
