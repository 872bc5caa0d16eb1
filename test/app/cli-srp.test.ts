/**
 * `pennyworth login` over USER_SRP_AUTH end to end. cognito-local has no SRP, so a small proxy in
 * front of it plays Cognito's SRP side (test/helpers/srp-server.ts: salt, verifier, B, secret
 * block; checks the client's PASSWORD_CLAIM_SIGNATURE) and, on success, gets the real tokens
 * from cognito-local with AdminInitiateAuth. The proxy also records every request: the password must never be in one.
 */
import t from 'tap'
import { AdminInitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGateway } from '../helpers/app.js'
import { runCli } from '../helpers/cli.js'
import { startCognito } from '../helpers/cognito.js'
import { type SrpServer, srpServer } from '../helpers/srp-server.js'

const cognito = await startCognito(t)
const gw = await startGateway(t, { cognito })
const { user } = cognito.users
const poolName = cognito.userPoolId.split('_')[1]

const seen: string[] = []
const pending = new Map<string, { A: bigint; server: SrpServer; password: string }>()

const proxy = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const raw = Buffer.concat(chunks).toString()
  seen.push(raw)
  const target = String(req.headers['x-amz-target'] ?? '').split('.')[1]
  const body = raw ? JSON.parse(raw) : {}
  const reply = (status: number, payload: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
    res.end(JSON.stringify(payload))
  }
  if (target === 'InitiateAuth' && body.AuthFlow === 'USER_SRP_AUTH') {
    // The "stored verifier" of the one person this proxy knows.
    if (body.AuthParameters.USERNAME !== user.username)
      return reply(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' })
    const server = srpServer(poolName, user.cognitoUsername, user.password)
    const session = randomUUID()
    pending.set(session, { A: BigInt(`0x${body.AuthParameters.SRP_A}`), server, password: user.password })
    return reply(200, { ChallengeName: 'PASSWORD_VERIFIER', Session: session, ChallengeParameters: server.params })
  }
  if (target === 'RespondToAuthChallenge' && body.ChallengeName === 'PASSWORD_VERIFIER') {
    const s = pending.get(body.Session)
    const r = body.ChallengeResponses
    if (
      !s ||
      r.PASSWORD_CLAIM_SIGNATURE !== s.server.expectedSignature(s.A, r.TIMESTAMP) ||
      r.PASSWORD_CLAIM_SECRET_BLOCK !== s.server.params.SECRET_BLOCK
    ) {
      return reply(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' })
    }
    const out = await cognito.client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: cognito.userPoolId,
        ClientId: cognito.clientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: user.username, PASSWORD: s.password },
      }),
    )
    return reply(200, { AuthenticationResult: out.AuthenticationResult, ChallengeParameters: {} })
  }
  // Anything else: cognito-local itself.
  const upstream = await fetch(cognito.endpoint, {
    method: 'POST',
    headers: {
      'content-type': String(req.headers['content-type']),
      'x-amz-target': String(req.headers['x-amz-target']),
    },
    body: raw,
  })
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
  res.end(await upstream.text())
})
await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok))
t.teardown(() => new Promise((ok) => proxy.close(ok)))
const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`

function cli(args: string[], input: string) {
  const home = mkdtempSync(join(tmpdir(), 'pennyworth-srp-'))
  return runCli(
    args,
    { PENNYWORTH_HOME: home, PENNYWORTH_API_URL: gw.url, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: proxyUrl },
    input,
  )
}

t.test('login uses SRP where the pool offers it; the password never leaves the machine', async (t) => {
  const ok = await cli(['login', '--username', user.username, '--json'], `${user.password}\n`)
  t.equal(ok.code, 0, ok.stderr)
  t.notMatch(ok.stderr, /USER_PASSWORD_AUTH/, 'no fallback')
  t.match(JSON.parse(ok.stdout), { username: user.username, groups: ['user'] })
  t.ok(
    seen.some((r) => r.includes('USER_SRP_AUTH')),
    'SRP was used',
  )
  t.notOk(
    seen.some((r) => r.includes(user.password)),
    'no request carried the password',
  )

  const wrong = await cli(['login', '--username', user.username], 'Wrong-Password-1!\n')
  t.equal(wrong.code, 3)
  t.match(wrong.stderr, /sign-in failed: Incorrect username or password/)
  t.notOk(seen.some((r) => r.includes('Wrong-Password-1!')))
})
