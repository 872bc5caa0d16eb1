/**
 * The app's JSON body parser: Fastify's own (secure-json-parse, prototype poisoning refused),
 * followed by the shape limits of lib/json-limits.ts. Registered on the root instance before
 * any route, so every front door that takes a JSON body (and any added later) inherits it;
 * the MCP endpoint parses its own body and applies the same check (mcp/server.ts).
 * A body over a limit is a 400 naming the field, rendered in the route's own error shape.
 */
import type { FastifyInstance } from 'fastify'
import { badRequest } from '../errors.js'
import { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits } from '../lib/json-limits.js'

export function registerJsonBody(app: FastifyInstance, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  const { onProtoPoisoning, onConstructorPoisoning } = app.initialConfig
  const parse = app.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if (err) return done(err, undefined)
      const crossed = checkJsonLimits(value, limits)
      if (!crossed) return done(null, value)
      import('../lib/json-limits-report.js').then(
        ({ describeJsonLimitViolation }) => {
          const { message, param } = describeJsonLimitViolation(value, crossed, limits)
          done(badRequest(message, param, 'json_limit_exceeded'), undefined)
        },
        (err: unknown) => done(err as Error, undefined),
      )
    })
  })
}
