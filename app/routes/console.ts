/**
 * The web console at /console/ (index.html, content-hashed assets under /console/assets/) and, in
 * local mode, POST /console/local-session (npm start's one-time sign-in link → a local admin
 * session). Registration only: the handlers, their security headers and file caches load with the
 * first console request (console-handlers.ts), so the console adds nothing to a Lambda cold start.
 * All four routes are public (plugins/auth.ts PUBLIC_ROUTES): the page then calls the admin API
 * with a bearer token like any client.
 */
import type { FastifyInstance } from 'fastify'
import type { ConsoleHandlers, ConsoleRouteOptions } from './console-handlers.js'

export type { ConsoleRouteOptions, ConsoleSettings } from './console-handlers.js'

export function consoleRoutes(app: FastifyInstance, opts: ConsoleRouteOptions): void {
  let handlers: Promise<ConsoleHandlers> | undefined
  const load = () =>
    (handlers ??= import('./console-handlers.js')
      .then((m) => m.createConsole(opts))
      .catch((err: unknown) => {
        handlers = undefined // a failed load is retried by the next request
        throw err
      }))

  app.get('/console', async (_request, reply) => (await load()).redirect(reply))
  app.get('/console/', async (_request, reply) => (await load()).index(reply))
  app.get<{ Params: { file: string } }>('/console/assets/:file', async (request, reply) =>
    (await load()).asset(request.params.file, reply),
  )
  app.post('/console/local-session', async (request, reply) => (await load()).localSession(request, reply))
  app.delete('/console/local-session', async (request, reply) => (await load()).endLocalSession(request, reply))
}
