/** CognitoVerifier against cognito-local's real tokens: every check, and the JWKS cache. */
import t from 'tap'
import { CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider'
import { createServer } from 'node:http'
import { decodeJwt, generateKeyPair, SignJWT } from 'jose'
import { CognitoVerifier, looksLikeJwt } from '../../app/services/jwt.js'
import { startCognito } from '../helpers/cognito.js'

const cognito = await startCognito(t)
const verifier = new CognitoVerifier({ issuer: cognito.issuer, clientId: cognito.clientId, jwksUrl: cognito.jwksUrl })

t.test('a valid access token gives the person, with groups', async (t) => {
  const admin = await verifier.verify(cognito.users.admin.tokens.accessToken)
  t.same(admin, {
    kind: 'user',
    sub: cognito.users.admin.sub,
    username: cognito.users.admin.cognitoUsername,
    groups: ['admin'],
  })
  t.same((await verifier.verify(cognito.users.nobody.tokens.accessToken)).groups, [])
  t.ok(looksLikeJwt(cognito.users.user.tokens.accessToken))
  t.notOk(looksLikeJwt('pw-abcdefghijkm-xyz'))
})

t.test('rejections', async (t) => {
  const { accessToken, idToken } = cognito.users.user.tokens
  await t.rejects(
    verifier.verify(idToken),
    { status: 401, code: 'invalid_token', message: /access token, not the ID token/ },
    'ID token',
  )
  const [h, p, s] = accessToken.split('.')
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  const elevated = Buffer.from(JSON.stringify({ ...payload, 'cognito:groups': ['admin'] })).toString('base64url')
  const forged = `${h}.${elevated}.${s}`
  await t.rejects(
    verifier.verify(forged),
    { status: 401, code: 'invalid_token' },
    'edited payload (signature no longer matches)',
  )
  await t.rejects(verifier.verify(`${h}.${p}.`), { status: 401, code: 'invalid_token' }, 'no signature')
  await t.rejects(verifier.verify('garbage'), { status: 401, code: 'invalid_token' }, 'not a JWT')

  const wrongIssuer = new CognitoVerifier({
    issuer: `${cognito.endpoint}/local_other`,
    clientId: cognito.clientId,
    jwksUrl: cognito.jwksUrl,
  })
  await t.rejects(wrongIssuer.verify(accessToken), { status: 401, code: 'invalid_token' }, 'issuer')

  const otherClient = await cognito.client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: cognito.userPoolId,
      ClientName: 'other',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
    }),
  )
  const strict = new CognitoVerifier({
    issuer: cognito.issuer,
    clientId: otherClient.UserPoolClient!.ClientId!,
    jwksUrl: cognito.jwksUrl,
  })
  await t.rejects(strict.verify(accessToken), { status: 401, code: 'invalid_token' }, 'client id')

  const exp = decodeJwt(accessToken).exp! * 1000
  const late = new CognitoVerifier({
    issuer: cognito.issuer,
    clientId: cognito.clientId,
    jwksUrl: cognito.jwksUrl,
    now: () => exp + 10_000,
  })
  await t.rejects(late.verify(accessToken), { status: 401, code: 'token_expired' }, 'expired')
  const justBefore = new CognitoVerifier({
    issuer: cognito.issuer,
    clientId: cognito.clientId,
    jwksUrl: cognito.jwksUrl,
    now: () => exp - 1000,
  })
  t.ok(await justBefore.verify(accessToken), 'valid until exp')

  // Same claims and kid, but signed with a key that is not the pool's.
  const { privateKey } = await generateKeyPair('RS256')
  const impostor = await new SignJWT({ ...payload })
    .setProtectedHeader({ alg: 'RS256', kid: 'CognitoLocal' })
    .sign(privateKey)
  await t.rejects(verifier.verify(impostor), { status: 401, code: 'invalid_token' }, 'foreign key')
  const hs = await new SignJWT({ ...payload })
    .setProtectedHeader({ alg: 'HS256', kid: 'CognitoLocal' })
    .sign(new TextEncoder().encode('x'.repeat(32)))
  await t.rejects(verifier.verify(hs), { status: 401, code: 'invalid_token' }, 'HS256')
})

t.test('the JWKS is fetched once and cached; an unreachable JWKS is a 503, not a pass', async (t) => {
  const jwks = await (await fetch(cognito.jwksUrl)).text()
  let fetches = 0
  const server = createServer((_req, res) => {
    fetches++
    res.setHeader('content-type', 'application/json')
    res.end(jwks)
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  t.teardown(() => new Promise((ok) => server.close(ok)))
  const port = (server.address() as { port: number }).port
  const counted = new CognitoVerifier({
    issuer: cognito.issuer,
    clientId: cognito.clientId,
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
  })
  await Promise.all(Array.from({ length: 20 }, () => counted.verify(cognito.users.admin.tokens.accessToken)))
  await counted.verify(cognito.users.user.tokens.accessToken)
  t.equal(fetches, 1)

  const down = new CognitoVerifier({
    issuer: cognito.issuer,
    clientId: cognito.clientId,
    jwksUrl: 'http://127.0.0.1:9/jwks.json',
  })
  await t.rejects(down.verify(cognito.users.admin.tokens.accessToken), { status: 503, code: 'jwks_unavailable' })
})
