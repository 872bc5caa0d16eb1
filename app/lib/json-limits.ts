/**
 * Bounds on the shape of a parsed JSON request body, checked once for every front door before
 * validation. Deep nesting is the hazard: JSON.parse copes, but every recursive step after it
 * (JSON.stringify in estimates and translations, ajv, the SDKs' serializers) overflows the
 * stack at a few thousand levels, which surfaced as a 500 with an error-level stack trace.
 * The container count bounds the size of schemas and structures (tool parameters, output
 * schemas) independently of the byte limit.
 */

/** The limits every body-parsing route applies. */
export interface JsonLimits {
  /** Deepest nesting of objects/arrays; the body itself is level 1. */
  maxDepth: number
  /** Most objects + arrays in one body. */
  maxContainers: number
}

/**
 * 64 levels: a JSON Schema spends two levels per nested object (`properties` → property), and
 * a tool's schema sits 4–5 levels below the body, so this leaves room for ~25 schema levels
 * (OpenAI's structured outputs allow 10). 100,000 containers: far above any real conversation
 * (embedding token arrays are at most 2,048 arrays of numbers) and cheap to walk.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxContainers: 100_000 }

/** Segments of the path shown as the offending field (deeper ones repeat the same structure). */
const FIELD_SEGMENTS = 4

/** Why a body was refused: the path of the field (OpenAI param notation) and a message. */
export interface JsonLimitViolation {
  param: string | null
  message: string
}

/**
 * Checks `value` against `limits` without recursion (an explicit stack), in one walk; the
 * path is worked out only when a limit is crossed.
 * @returns undefined when within the limits.
 */
export function checkJsonLimits(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonLimitViolation | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  // One stack of (value, depth) pairs; plain loops, no per-node allocation (this runs on every request).
  const stack: unknown[] = [value, 1]
  let containers = 0
  while (stack.length > 0) {
    const depth = stack.pop() as number
    const v = stack.pop() as Record<string, unknown> | unknown[]
    if (depth > limits.maxDepth) return tooDeep(value, limits.maxDepth)
    if (++containers > limits.maxContainers) {
      return { param: null, message: `The request body has more than ${limits.maxContainers} objects and arrays.` }
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i]
        if (typeof c === 'object' && c !== null) stack.push(c, depth + 1)
      }
    } else {
      for (const k in v) {
        const c = v[k]
        if (typeof c === 'object' && c !== null) stack.push(c, depth + 1)
      }
    }
  }
  return undefined
}

/** The first value nested deeper than `maxDepth`, found again with its path. */
function tooDeep(root: object, maxDepth: number): JsonLimitViolation {
  const stack: Array<{ v: object; path: string[] }> = [{ v: root, path: [] }]
  let path: string[] = []
  while (stack.length > 0) {
    const { v, path: p } = stack.pop()!
    if (p.length >= maxDepth) { path = p; break }
    for (const [k, c] of Object.entries(v)) {
      if (typeof c === 'object' && c !== null) stack.push({ v: c, path: [...p, k] })
    }
  }
  const field = path.slice(0, FIELD_SEGMENTS)
  const param = renderPath(field)
  const where = param ?? 'request body'
  return { param, message: `Invalid value for '${where}': JSON nested more than ${maxDepth} levels deep${path.length > FIELD_SEGMENTS ? ` (at '${renderPath(path.slice(0, FIELD_SEGMENTS + 4))}…')` : ''}.` }
}

/** `['tools','0','function']` → `tools[0].function`; the keys are the client's own, so they are cut short. */
function renderPath(parts: string[]): string | null {
  if (parts.length === 0) return null
  return parts.reduce((acc, raw) => {
    const p = raw.length > 64 ? `${raw.slice(0, 64)}…` : raw
    return /^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p
  }, '')
}
