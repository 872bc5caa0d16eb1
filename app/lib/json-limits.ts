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

/** Which limit a body crossed; `describeJsonLimitViolation` (loaded on demand) words it. */
export type JsonLimitCrossed = 'depth' | 'containers'

/**
 * Checks `value` against `limits` without recursion (an explicit stack), in one walk. The path
 * and message are worked out only when a limit is crossed, by lib/json-limits-report.ts (a
 * module of its own, so the Lambda's cold start does not load what only a refusal needs).
 * @returns undefined when within the limits.
 */
export function checkJsonLimits(
  value: unknown,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): JsonLimitCrossed | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  // One stack of (value, depth) pairs; plain loops, no per-node allocation (this runs on every request).
  const stack: unknown[] = [value, 1]
  let containers = 0
  while (stack.length > 0) {
    const depth = stack.pop() as number
    const v = stack.pop() as Record<string, unknown> | unknown[]
    if (depth > limits.maxDepth) return 'depth'
    if (++containers > limits.maxContainers) return 'containers'
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
