/**
 * Request validation and response serialization compiled on first use. Fastify compiles every
 * route's schemas (ajv for requests, fast-json-stringify for responses) when the app becomes
 * ready; on Lambda that is cold-start time spent on routes the instance may never serve
 * (profiled: the bulk of import + ready). Here each route gets a wrapper that compiles its
 * schema the first time a request (or reply) needs it, with the compilers and options Fastify
 * would use.
 *
 * They are given to Fastify as its `schemaController.compilersFactory` (buildApp), so Fastify
 * never loads its default validator compiler (@fastify/ajv-compiler; the Lambda bundle leaves
 * it out, see scripts/build-lambda.ts). `eager` compiles at registration as Fastify does
 * (tests: a broken schema fails at ready(), not at the first request).
 * https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/#validator-compiler
 * https://fastify.dev/docs/latest/Reference/Server/#schemacontroller
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { Ajv, ValidateFunction } from 'ajv'
import type { FastifyServerOptions } from 'fastify'
import { requestAjv } from '../lib/validation.js'

/** Fastify's validator contract: a boolean result, with `errors` set on the function. */
type FastifyValidator = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] }

/**
 * Fastify's `schemaController.compilersFactory`. `buildValidator`: one ajv instance (made on
 * the first compile, with lib/validation.ts's options) for the whole app. `buildSerializer`:
 * fast-json-stringify, exactly as Fastify's default (@fastify/fast-json-stringify-compiler) does it.
 */
export type SchemaCompilers = Required<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
>
type ValidatorCompiler = ReturnType<SchemaCompilers['buildValidator']>
type SerializerCompiler = ReturnType<SchemaCompilers['buildSerializer']>

export function lazySchemaCompilers(options: { eager?: boolean } = {}): SchemaCompilers {
  const eager = options.eager === true
  let ajv: Ajv | undefined
  const compileValidator = (schema: unknown): ValidateFunction => (ajv ??= requestAjv()).compile(schema as object)
  const validatorCompiler = (({ schema }: { schema: unknown }) => {
    let compiled = eager ? compileValidator(schema) : undefined
    const validate: FastifyValidator = (data) => {
      compiled ??= compileValidator(schema)
      const ok = compiled(data)
      validate.errors = compiled.errors
      return ok
    }
    return validate
  }) as unknown as ValidatorCompiler

  const serializers = SerializerSelector()
  return {
    buildValidator: () => validatorCompiler,
    buildSerializer: (externalSchemas, serializerOpts) => {
      const compile = serializers(externalSchemas, serializerOpts)
      return ((definition: Parameters<typeof compile>[0]) => {
        let serialize = eager ? compile(definition) : undefined
        return (data: unknown) => (serialize ??= compile(definition))(data)
      }) as SerializerCompiler
    },
  }
}
