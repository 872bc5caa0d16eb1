/**
 * Route `config.auth` values shared by route groups (plugins/auth.ts enforces them). The admin
 * API takes Cognito access tokens only, never API keys.
 */
import type { RouteAuth } from './auth.js'

/** Anyone in group `admin` or `user` (services narrow what a `user` may touch). */
export const SIGNED_IN: { auth: RouteAuth } = { auth: { accept: ['user'], groups: ['admin', 'user'] } }
/** Group `admin` only. */
export const ADMINS: { auth: RouteAuth } = { auth: { accept: ['user'], groups: ['admin'] } }
