/** Public liveness and version routes (listed in PUBLIC_ROUTES). */
import type { FastifyInstance } from 'fastify'

export interface HealthRouteOptions {
  version: string
}

export function healthRoutes(app: FastifyInstance, opts: HealthRouteOptions): void {
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/version', async () => ({ name: 'pennyworth', version: opts.version }))
}
