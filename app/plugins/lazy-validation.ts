/**
 * Request validation and response serialization compiled on first use. Fastify compiles every
 * route's schemas (ajv for requests, fast-json-stringify for responses) when the app becomes
 * ready; on Lambda that is cold-start time spent on routes the instance may never serve
 * (profiled: the bulk of import + ready). Here each route gets a wrapper that compiles its
 * schema the first time a request (or reply) needs it, with the compilers and options Fastify
 * would use.
 *
 * The compilers themselves (ajv, fast-json-stringify: about a fifth of what a Lambda cold start
 * would otherwise load) are loaded by `loadSchemaModules()`, which buildApp awaits in an
 * onRequest hook of the first request to a route with a schema; a request without one (health
 * probes, the console) and the scheduled metering sweep never load them.
 *
 * They are given to Fastify as its `schemaController.compilersFactory` (buildApp), so Fastify
 * never loads its default compilers (@fastify/ajv-compiler, @fastify/fast-json-stringify-compiler;
 * the Lambda bundle leaves them out of Fastify's schema controller, see scripts/build-lambda.ts).
 * `eager` compiles at registration as Fastify does (tests: a broken schema fails at ready(), not
 * at the first request); it needs the modules loaded first.
 * https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/#validator-compiler
 * https://fastify.dev/docs/latest/Reference/Server/#schemacontroller
 */
import type { SerializerSelector as SerializerSelectorType } from '@fastify/fast-json-stringify-compiler'
import type { Ajv, ValidateFunction } from 'ajv'
import type { FastifyServerOptions } from 'fastify'
import { requestAjv } from '../lib/validation.js'

interface SchemaModules {
  Ajv: typeof Ajv
  SerializerSelector: typeof SerializerSelectorType
}

let modules: SchemaModules | undefined
let loading: Promise<void> | undefined

/**
 * Loads ajv and fast-json-stringify (once; in the Lambda bundle, chunks of their own). A failed
 * load is not cached: the next call tries again.
 */
export function loadSchemaModules(): Promise<void> {
  return (loading ??= Promise.all([import('ajv'), import('@fastify/fast-json-stringify-compiler')]).then(
    ([ajv, fjs]) => {
      modules = { Ajv: commonJs(ajv).Ajv, SerializerSelector: commonJs(fjs).SerializerSelector }
    },
    (err: unknown) => {
      loading = undefined
      throw err
    },
  ))
}

/**
 * The exports object of a CommonJS package loaded with `import()`: Node gives it as `default`
 * (and the names it detects as named exports); an esbuild chunk (the Lambda bundle) gives only
 * `default`. Both packages also export themselves under their own name (`Ajv`, `SerializerSelector`).
 */
function commonJs<T extends object>(namespace: T): T {
  return ((namespace as { default?: T }).default ?? namespace) as T
}

/** True once `loadSchemaModules()` has loaded the compilers. */
export function schemaModulesLoaded(): boolean {
  return modules !== undefined
}

function loaded(): SchemaModules {
  if (!modules) throw new Error('route schemas compiled before loadSchemaModules() finished')
  return modules
}

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
  const compileValidator = (schema: unknown): ValidateFunction =>
    (ajv ??= requestAjv(loaded().Ajv)).compile(schema as object)
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

  return {
    buildValidator: () => validatorCompiler,
    buildSerializer: (externalSchemas, serializerOpts) => {
      type Compile = ReturnType<ReturnType<typeof SerializerSelectorType>>
      let factory: Compile | undefined
      const compile: Compile = (definition) =>
        (factory ??= loaded().SerializerSelector()(externalSchemas, serializerOpts))(definition)
      return ((definition: Parameters<Compile>[0]) => {
        let serialize = eager ? compile(definition) : undefined
        return (data: unknown) => (serialize ??= compile(definition))(data)
      }) as SerializerCompiler
    },
  }
}
