/**
 * People in the Cognito user pool, for admins: create (with a group), list, disable, and look
 * one up (to give them a key). The SDK client is built in clients.ts and injected, as a client
 * or as a provider that builds it on first use; the SDK's command classes are loaded with it
 * (a separate chunk of the Lambda bundle, see scripts/build-lambda.ts), never at start.
 * Calls: AdminCreateUser, AdminAddUserToGroup, ListUsers, ListUsersInGroup, AdminGetUser,
 * AdminDisableUser (the Lambda's role needs exactly these on the pool).
 */
import type { AttributeType, CognitoIdentityProviderClient, UserType } from '@aws-sdk/client-cognito-identity-provider'
import type { CognitoClientProvider } from '../clients.js'
import { ApiError, badRequest, notFound } from '../errors.js'
import { GROUPS, type Group } from './jwt.js'

export interface UserView {
  /** The pool's user name (an opaque id in a pool that signs in by e-mail). */
  username: string
  sub: string
  email: string | null
  enabled: boolean
  /** Cognito's status: CONFIRMED, FORCE_CHANGE_PASSWORD, … */
  status: string
  groups: string[]
  createdAt: string | null
}

const attr = (attrs: AttributeType[] | undefined, name: string) => attrs?.find((a) => a.Name === name)?.Value

function view(
  u: {
    Username?: string
    Attributes?: AttributeType[]
    UserAttributes?: AttributeType[]
    Enabled?: boolean
    UserStatus?: string
    UserCreateDate?: Date
  },
  groups: string[],
): UserView {
  const attrs = u.Attributes ?? u.UserAttributes
  return {
    username: u.Username ?? '',
    sub: attr(attrs, 'sub') ?? u.Username ?? '',
    email: attr(attrs, 'email') ?? null,
    enabled: u.Enabled ?? true,
    status: u.UserStatus ?? 'UNKNOWN',
    groups,
    createdAt: u.UserCreateDate ? u.UserCreateDate.toISOString() : null,
  }
}

/** Cognito's errors → our client errors; anything else stays a 500. */
function mapError(err: unknown): never {
  const name = (err as { name?: string }).name
  const message = (err as Error).message
  if (name === 'UserNotFoundException') throw notFound('No such user.', 'user_not_found')
  if (name === 'UsernameExistsException' || name === 'AliasExistsException')
    throw new ApiError(409, 'A user with this e-mail address exists.', 'invalid_request_error', 'user_exists')
  if (name === 'InvalidPasswordException')
    throw badRequest(
      `The temporary password does not meet the pool's policy: ${message}`,
      'temporaryPassword',
      'invalid_password',
    )
  if (name === 'InvalidParameterException') throw badRequest(message, null, 'invalid_parameter')
  throw err
}

type CognitoSdk = typeof import('./cognito-sdk.js')

export class UserDirectory {
  private readonly provider: CognitoClientProvider
  private sdk: Promise<CognitoSdk> | undefined

  constructor(
    client: CognitoIdentityProviderClient | CognitoClientProvider,
    private readonly userPoolId: string,
  ) {
    this.provider = typeof client === 'function' ? client : async () => client
  }

  /** The client and the SDK's commands, loaded on first use (a failed load is retried next time). */
  private async cognito(): Promise<{ client: CognitoIdentityProviderClient; sdk: CognitoSdk }> {
    const sdk = (this.sdk ??= import('./cognito-sdk.js'))
    try {
      const [client, loaded] = await Promise.all([this.provider(), sdk])
      return { client, sdk: loaded }
    } catch (err) {
      if (this.sdk === sdk) this.sdk = undefined
      throw err
    }
  }

  /** Creates a person in a group. Cognito e-mails the invitation (temporary password) unless told not to. */
  async create(input: {
    email: string
    group: Group
    temporaryPassword?: string
    sendInvite?: boolean
  }): Promise<UserView> {
    try {
      const { client, sdk } = await this.cognito()
      const out = await client.send(
        new sdk.AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: input.email,
          UserAttributes: [
            { Name: 'email', Value: input.email },
            { Name: 'email_verified', Value: 'true' },
          ],
          TemporaryPassword: input.temporaryPassword,
          DesiredDeliveryMediums: ['EMAIL'],
          ...(input.sendInvite === false ? { MessageAction: 'SUPPRESS' as const } : {}),
        }),
      )
      const user = out.User!
      await client.send(
        new sdk.AdminAddUserToGroupCommand({
          UserPoolId: this.userPoolId,
          Username: user.Username!,
          GroupName: input.group,
        }),
      )
      return view(user, [input.group])
    } catch (err) {
      mapError(err)
    }
  }

  /** Everyone in the pool with their pennyworth groups. */
  async list(): Promise<UserView[]> {
    try {
      const { client, sdk } = await this.cognito()
      const groups = new Map<string, string[]>()
      for (const group of GROUPS) {
        let NextToken: string | undefined
        do {
          const page = await client.send(
            new sdk.ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: group, NextToken }),
          )
          for (const u of page.Users ?? []) groups.set(u.Username!, [...(groups.get(u.Username!) ?? []), group])
          NextToken = page.NextToken
        } while (NextToken)
      }
      const users: UserType[] = []
      let PaginationToken: string | undefined
      do {
        const page = await client.send(new sdk.ListUsersCommand({ UserPoolId: this.userPoolId, PaginationToken }))
        users.push(...(page.Users ?? []))
        PaginationToken = page.PaginationToken
      } while (PaginationToken)
      return users
        .map((u) => view(u, groups.get(u.Username!) ?? []))
        .sort((a, b) => (a.email ?? a.username).localeCompare(b.email ?? b.username))
    } catch (err) {
      mapError(err)
    }
  }

  /** A person by user name, e-mail or sub; 404 when there is none. */
  async find(ref: string): Promise<UserView> {
    try {
      const { client, sdk } = await this.cognito()
      if (!ref.includes('"')) {
        for (const field of ref.includes('@') ? ['email'] : ['sub', 'username']) {
          const page = await client.send(
            new sdk.ListUsersCommand({ UserPoolId: this.userPoolId, Filter: `${field} = "${ref}"`, Limit: 2 }),
          )
          if (page.Users?.length === 1) return view(page.Users[0], [])
        }
      }
      const out = await client.send(new sdk.AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: ref }))
      return view(out, [])
    } catch (err) {
      mapError(err)
    }
  }

  /** Disables sign-in of a person found by find() (Cognito also revokes their refresh tokens). */
  async disable(user: UserView): Promise<UserView> {
    try {
      const { client, sdk } = await this.cognito()
      await client.send(new sdk.AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: user.username }))
      return { ...user, enabled: false }
    } catch (err) {
      mapError(err)
    }
  }
}
