/**
 * The admin API: an encapsulated plugin that app.ts registers under the prefix /v1/admin
 * (Cognito access tokens only; see plugins/route-access.ts and plugins/auth.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { AdminService } from '../../services/admin.js'
import { adminKeyRoutes } from './keys.js'
import { adminUsageRoutes } from './usage.js'
import { adminUserRoutes } from './users.js'

export interface AdminRouteOptions {
  admin: () => Promise<AdminService>
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRouteOptions): Promise<void> {
  adminKeyRoutes(app, opts)
  adminUserRoutes(app, opts)
  adminUsageRoutes(app, opts)
}
