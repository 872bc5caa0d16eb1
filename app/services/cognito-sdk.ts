/**
 * The part of the Cognito identity-provider SDK the app uses: the client and the commands of
 * the users admin API (services/users.ts). Only ever loaded with `import()` (clients.ts,
 * users.ts), so it is a chunk of its own in the Lambda bundle that a cold start does not load;
 * re-exporting named classes (not the package namespace) lets the bundler drop the other
 * commands.
 */
export {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider'
