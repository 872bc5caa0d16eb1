/**
 * Request validation in one place: the ajv options every request validator uses (the routes'
 * schemas through Fastify, plugins/lazy-validation.ts; MCP tool arguments, mcp/tools/index.ts),
 * and the one wording of a validation failure as an ApiError, used by the error handler
 * (plugins/error-handler.ts) and the MCP tools alike, so HTTP and MCP validate and answer alike.
 * https://ajv.js.org/options.html
 */
import type { Ajv, Options as AjvOptions } from 'ajv'
import { ApiError } from '../errors.js'

/** Fastify's defaults, but no type coercion ("0.5" is not a temperature) and discriminated unions. */
export const AJV_OPTIONS: Readonly<AjvOptions> = Object.freeze({
  coerceTypes: false,
  useDefaults: true,
  removeAdditional: false,
  // The first failure only: its message is the one a client gets.
  allErrors: false,
  // Chat messages are a union discriminated by `role` (better error messages).
  discriminator: true,
  strict: false,
})

/** A new ajv instance with the request validators' options. */
export const requestAjv = (AjvClass: typeof Ajv): Ajv => new AjvClass({ ...AJV_OPTIONS })

/** What ajv reports of one failure (ajv's ErrorObject, as Fastify passes it on). */
export interface ValidationIssue {
  instancePath?: string
  keyword?: string
  params?: Record<string, unknown>
  message?: string
}

/** How a front door names what it validates. */
export interface ValidationWording {
  /** One named input: `parameter` (HTTP) or `argument` (MCP tools). */
  noun: 'parameter' | 'argument'
  /** The whole input, for a failure at its root: `request body`, `querystring`, `arguments`. */
  whole: string
}

/** `/messages/0/content` → `messages[0].content` (OpenAI's param notation). */
export function toParam(instancePath: string, missingProperty?: string): string | null {
  const parts = instancePath.split('/').filter(Boolean)
  if (missingProperty) parts.push(missingProperty)
  if (parts.length === 0) return null
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '')
}

/**
 * The 400 `invalid_value` for failed validation, with `param` from the failing path: a missing
 * property, the allowed values of an enum or const, the name of an unknown property, else
 * ajv's own message. Discriminated unions report the branch's own failure: the most specific
 * issue (not oneOf/anyOf) is the one told.
 */
export function validationError(issues: readonly ValidationIssue[] | null | undefined, w: ValidationWording): ApiError {
  const all = issues ?? []
  const issue = all.find((i) => i.keyword !== 'oneOf' && i.keyword !== 'anyOf') ?? all[0]
  if (!issue) return new ApiError(400, `Invalid ${w.whole}.`, 'invalid_request_error', 'invalid_value')
  const missing = issue.keyword === 'required' ? String(issue.params?.missingProperty) : undefined
  const param = toParam(issue.instancePath ?? '', missing)
  const bad = (message: string) => new ApiError(400, message, 'invalid_request_error', 'invalid_value', param)
  if (missing) return bad(`Missing required ${w.noun}: '${param}'.`)
  return bad(`Invalid value for '${param ?? w.whole}': ${detail(issue, all)}.`)
}

const expected = (allowed: readonly unknown[]) => `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`

function detail(issue: ValidationIssue, all: readonly ValidationIssue[]): string {
  if (issue.keyword === 'enum') return expected(issue.params?.allowedValues as unknown[])
  // A union of literals (TypeBox's Union of Literal = anyOf of const): every branch's value.
  if (issue.keyword === 'const')
    return expected(
      all
        .filter((i) => i.keyword === 'const' && i.instancePath === issue.instancePath)
        .map((i) => i.params?.allowedValue),
    )
  if (issue.keyword === 'additionalProperties') return `unknown property '${String(issue.params?.additionalProperty)}'`
  return issue.message ?? 'invalid'
}
