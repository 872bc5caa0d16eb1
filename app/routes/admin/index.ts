/** The admin API under /v1/admin (Cognito access tokens only; see access.ts and plugins/auth.ts). */
import type { FastifyInstance } from 'fastify'
import type { AdminService } from '../../services/admin.js'
import { adminKeyRoutes } from './keys.js'
import { adminUsageRoutes } from './usage.js'
import { adminUserRoutes } from './users.js'

export function adminRoutes(app: FastifyInstance, opts: { admin: () => Promise<AdminService> }): void {
  adminKeyRoutes(app, opts)
  adminUserRoutes(app, opts)
  adminUsageRoutes(app, opts)
}
