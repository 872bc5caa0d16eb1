/**
 * The tables of docs/upstream-errors.md, rendered from the Bedrock error map
 * (app/providers/bedrock/errors.ts), the Anthropic door's status mapping and the retry codes.
 */
import { anthropicStatus } from '../../app/doors/anthropic/errors.js'
import { isFallbackWorthy, RETRYABLE_UPSTREAM_CODES } from '../../app/core/errors.js'
import { ApiError } from '../../app/errors.js'
import {
  BEDROCK_ERROR_BY_STATUS,
  BEDROCK_ERROR_MAP,
  type Mapping,
  NON_AWS_REPLY_MAP,
  UPSTREAM_FALLBACK,
} from '../../app/providers/bedrock/errors.js'
import { markdownTable } from './regions.js'

const code = (s: string) => `\`${s}\``

/** What the Messages door answers for a mapping: `529 \`overloaded_error\``. */
function anthropic(m: Mapping): string {
  const a = anthropicStatus(new ApiError(m.status, '', m.type, m.code))
  return `${a.status} ${code(a.type)}`
}

function retried(m: Mapping): string {
  if (RETRYABLE_UPSTREAM_CODES.has(m.code)) return 'yes'
  return isFallbackWorthy({ code: m.code }) ? 'no (fallback yes)' : 'no'
}

/** Keys grouped by equal mapping, in order of first appearance. */
function grouped<K extends string | number>(entries: [K, Mapping][]): [K[], Mapping][] {
  const groups = new Map<string, [K[], Mapping]>()
  for (const [key, m] of entries) {
    const id = `${m.status} ${m.type} ${m.code}`
    const g = groups.get(id)
    if (g) g[0].push(key)
    else groups.set(id, [[key], m])
  }
  return [...groups.values()]
}

/** `| Bedrock error | status (OpenAI doors) | code | Anthropic door | retried |`. */
export function bedrockErrorsTable(): string {
  const rows = grouped(Object.entries(BEDROCK_ERROR_MAP) as [string, Mapping][]).map(([names, m]) => [
    names.map(code).join(', '),
    String(m.status),
    code(m.code),
    anthropic(m),
    retried(m),
  ])
  return markdownTable(['Bedrock error', 'status (OpenAI doors)', 'code', 'Anthropic door', 'retried'], rows)
}

/** `| HTTP status | read as | status (OpenAI doors) | code |` for AWS errors of an unknown name. */
export function bedrockErrorsByStatusTable(): string {
  const byName = new Map<string, number[]>()
  for (const [status, name] of Object.entries(BEDROCK_ERROR_BY_STATUS))
    byName.set(name, [...(byName.get(name) ?? []), Number(status)])
  const rows = [...byName].map(([name, statuses]) => {
    const m: Mapping = BEDROCK_ERROR_MAP[name as keyof typeof BEDROCK_ERROR_MAP]
    return [statuses.join(', '), code(name), String(m.status), code(m.code)]
  })
  rows.push(['any other', '—', String(UPSTREAM_FALLBACK.status), code(UPSTREAM_FALLBACK.code)])
  return markdownTable(['HTTP status', 'read as', 'status (OpenAI doors)', 'code'], rows)
}

/** `| non-AWS reply | OpenAI doors | code | Anthropic door |`. */
export function nonAwsRepliesTable(): string {
  const rows = NON_AWS_REPLY_MAP.map((r) => [r.replies, String(r.maps.status), code(r.maps.code), anthropic(r.maps)])
  return markdownTable(['non-AWS reply', 'OpenAI doors', 'code', 'Anthropic door'], rows)
}
