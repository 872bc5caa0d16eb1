/**
 * The words for a body refused by lib/json-limits.ts: the path of the offending field (OpenAI
 * param notation) and a message. Loaded only when a body is refused.
 */
import type { JsonLimitCrossed, JsonLimits } from './json-limits.js'

/** Segments of the path shown as the offending field (deeper ones repeat the same structure). */
const FIELD_SEGMENTS = 4

/** Why a body was refused: the path of the field (OpenAI param notation) and a message. */
export interface JsonLimitViolation {
  param: string | null
  message: string
}

/** The param and message for a body that crossed `crossed`. */
export function describeJsonLimitViolation(
  value: unknown,
  crossed: JsonLimitCrossed,
  limits: JsonLimits,
): JsonLimitViolation {
  if (crossed === 'containers')
    return { param: null, message: `The request body has more than ${limits.maxContainers} objects and arrays.` }
  return tooDeep(value as object, limits.maxDepth)
}

/** The first value nested deeper than `maxDepth`, found again with its path. */
function tooDeep(root: object, maxDepth: number): JsonLimitViolation {
  const stack: Array<{ v: object; path: string[] }> = [{ v: root, path: [] }]
  let path: string[] = []
  while (stack.length > 0) {
    const { v, path: p } = stack.pop()!
    if (p.length >= maxDepth) {
      path = p
      break
    }
    for (const [k, c] of Object.entries(v)) {
      if (typeof c === 'object' && c !== null) stack.push({ v: c, path: [...p, k] })
    }
  }
  const field = path.slice(0, FIELD_SEGMENTS)
  const param = renderPath(field)
  const where = param ?? 'request body'
  return {
    param,
    message:
      `Invalid value for '${where}': JSON nested more than ${maxDepth} levels ` +
      `deep${path.length > FIELD_SEGMENTS ? ` (at '${renderPath(path.slice(0, FIELD_SEGMENTS + 4))}…')` : ''}.`,
  }
}

/** `['tools','0','function']` → `tools[0].function`; the keys are the client's own, so they are cut short. */
function renderPath(parts: string[]): string | null {
  if (parts.length === 0) return null
  return parts.reduce((acc, raw) => {
    const p = raw.length > 64 ? `${raw.slice(0, 64)}…` : raw
    return /^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p
  }, '')
}
