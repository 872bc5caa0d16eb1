/**
 * Request validation compiled on first use. Fastify compiles every route's schema with ajv
 * when the app becomes ready; on Lambda that is cold-start time spent on routes the instance
 * may never serve (profiled: the bulk of import + ready). Here each route gets a wrapper that
 * compiles its schema the first time a request needs it, with the same ajv options.
 * https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/#validator-compiler
 */
import { Ajv, type ValidateFunction } from 'ajv'
import type { FastifyInstance } from 'fastify'

/** Fastify's validator contract: a boolean result, with `errors` set on the function. */
type FastifyValidator = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] }

export function registerLazyValidation(app: FastifyInstance): void {
  const ajv = new Ajv({
    // Fastify's defaults, but no type coercion: "0.5" is not a temperature.
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    // Chat messages are a union discriminated by `role` (better error messages).
    discriminator: true,
    strict: false,
  })
  app.setValidatorCompiler(({ schema }) => {
    let compiled: ValidateFunction | undefined
    const validate: FastifyValidator = (data) => {
      compiled ??= ajv.compile(schema)
      const ok = compiled(data)
      validate.errors = compiled.errors
      return ok
    }
    return validate
  })
}
