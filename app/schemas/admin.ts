/**
 * JSON Schemas of the admin API (/v1/admin/…). Responses are serialized through these schemas,
 * so a field that is not listed here (a secret hash) can never leave the server.
 * Query strings are not coerced: numbers in them are validated as digit strings.
 */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

export const KeyId = Type.String({ pattern: '^[a-z2-9]{12}$', description: 'public key id' })

const MicroUsd = Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()])
const PerMinute = Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.Null()])
/** Budget and rate limits; null = none (an update with null removes one). */
const limits = {
  monthlyBudgetMicroUsd: Type.Optional(MicroUsd),
  softBudgetMicroUsd: Type.Optional(MicroUsd),
  rpm: Type.Optional(PerMinute),
  tpm: Type.Optional(PerMinute),
}

const keyFields = {
  id: Type.String(),
  name: Type.String(),
  /** Cognito sub of the owner (or a bootstrap owner name). */
  owner: Type.String(),
  createdAt: Type.String(),
  expires: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
  revokedAt: Type.Optional(Type.String()),
  models: Type.Array(Type.String()),
  ...limits,
  rotatedAt: Type.Optional(Type.String()),
  /** Until when the secret replaced by the last rotation is still accepted. */
  graceUntil: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
}
export const KeyView = Type.Object(keyFields)
/** A new or rotated key: the record plus the full key, shown this once. */
export const KeyWithSecret = Type.Object({ key: Type.String(), ...keyFields })
export const KeyList = Type.Object({ object: Type.Literal('list'), data: Type.Array(KeyView) })

const Name = Type.String({ minLength: 1, maxLength: 100 })
const Models = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 200 })
const Expires = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])

export const CreateKeyBody = Type.Object(
  {
    name: Name,
    /** Admins: user name, e-mail or sub of the owner (default: the caller). */
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    /** Catalog ids or aliases, or ["*"] (the default). */
    models: Type.Optional(Models),
    expires: Type.Optional(Expires),
    ...limits,
  },
  { additionalProperties: false },
)
export type CreateKeyBody = Static<typeof CreateKeyBody>

export const UpdateKeyBody = Type.Object(
  {
    name: Type.Optional(Name),
    models: Type.Optional(Models),
    expires: Type.Optional(Expires),
    ...limits,
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateKeyBody = Static<typeof UpdateKeyBody>

export const RotateKeyBody = Type.Object(
  {
    /** How long the replaced secret keeps working (0 = it stops now; at most 30 days). */
    gracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86_400 })),
  },
  { additionalProperties: false },
)
export type RotateKeyBody = Static<typeof RotateKeyBody>

export const KeyParams = Type.Object({ id: KeyId })
export const KeyListQuery = Type.Object(
  { owner: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })) },
  { additionalProperties: false },
)

export const Me = Type.Object({
  sub: Type.String(),
  username: Type.String(),
  groups: Type.Array(Type.String()),
  admin: Type.Boolean(),
})

export const UserView = Type.Object({
  username: Type.String(),
  sub: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  status: Type.String(),
  groups: Type.Array(Type.String()),
  createdAt: Type.Union([Type.String(), Type.Null()]),
})
export const UserList = Type.Object({ object: Type.Literal('list'), data: Type.Array(UserView) })
export const CreateUserBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    group: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
    /** Default: Cognito generates one and e-mails it. */
    temporaryPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
    /** Default true: Cognito e-mails the invitation. */
    sendInvite: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)
export type CreateUserBody = Static<typeof CreateUserBody>
/** A user name, e-mail or sub (no quotes or spaces: it goes into a Cognito ListUsers filter). */
export const UserParams = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, pattern: '^[^"\\\\\\s]+$' }),
})

export const AuditView = Type.Object({
  id: Type.String(),
  at: Type.String(),
  who: Type.Object({ kind: Type.String(), id: Type.String(), name: Type.Optional(Type.String()) }),
  action: Type.String(),
  target: Type.String(),
  details: Type.Object({}, { additionalProperties: true }),
  requestId: Type.Optional(Type.String()),
})
export const AuditList = Type.Object({ object: Type.Literal('list'), data: Type.Array(AuditView) })
export const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d{0,2}|1000)$' })),
  },
  { additionalProperties: false },
)
