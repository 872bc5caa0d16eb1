/** Public liveness, version and base-URL probe routes (listed in PUBLIC_ROUTES). */
import type { FastifyInstance } from 'fastify'

export interface HealthRouteOptions {
  version: string
}

export function healthRoutes(app: FastifyInstance, opts: HealthRouteOptions): void {
  // Anthropic clients (Claude Code) probe the base URL before their first request; an error
  // here is rendered in Anthropic's shape.
  app.get('/', { config: { errorFormat: 'anthropic' } }, async () => ({ name: 'pennyworth', status: 'ok' }))
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/version', async () => ({ name: 'pennyworth', version: opts.version }))
}
