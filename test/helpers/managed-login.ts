/**
 * A stand-in for Cognito's managed login (hosted UI) in front of cognito-local, which has none:
 * `GET /oauth2/authorize` signs the chosen person in with their password through cognito-local
 * (real RS256 tokens of the given app client) and redirects back with a code, as the real
 * managed login does after its form; `POST /oauth2/token` redeems that code once, checking
 * client, redirect URI and the PKCE verifier. Listens on 127.0.0.1; the gateway reaches it
 * through an injected fetch that maps the configured https domain onto it.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 */
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { TestCognito } from './cognito.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface ManagedLogin {
  /** The https domain the gateway is configured with (mapped onto the listener). */
  domain: string
  /** http://127.0.0.1:<port> */
  url: string
  /** Who signs in at the next authorize request (e-mail and password). */
  signInAs: { username: string; password: string }
  /** A fetch that sends requests for `domain` to the listener. */
  fetch: typeof fetch
  /** Maps a URL on `domain` to the listener (for the test's browser). */
  local(url: string): string
  /** Token requests seen (form parameters). */
  tokenRequests: URLSearchParams[]
}

export async function startManagedLogin(t: Teardown, cognito: TestCognito, clientId: string): Promise<ManagedLogin> {
  const codes = new Map<string, { tokens: Record<string, string>; challenge: string; redirectUri: string }>()
  const login: ManagedLogin = {
    domain: 'https://login.pennyworth.test',
    url: '',
    signInAs: { username: '', password: '' },
    fetch: (input, init) => fetch(login.local(String(input instanceof Request ? input.url : input)), init),
    local: (u) => u.replace(login.domain, login.url),
    tokenRequests: [],
  }
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1')
    const fail = (status: number, error: string) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error }))
    try {
      if (req.method === 'GET' && u.pathname === '/oauth2/authorize') {
        const q = u.searchParams
        if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge'))
          return fail(400, 'invalid_request')
        const out = await cognito.client.send(
          new InitiateAuthCommand({
            ClientId: clientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: login.signInAs.username, PASSWORD: login.signInAs.password },
          }),
        )
        const r = out.AuthenticationResult!
        const code = randomBytes(16).toString('hex')
        codes.set(code, {
          tokens: { access_token: r.AccessToken!, id_token: r.IdToken!, refresh_token: r.RefreshToken! },
          challenge: q.get('code_challenge')!,
          redirectUri: q.get('redirect_uri')!,
        })
        const back = new URL(q.get('redirect_uri')!)
        back.searchParams.set('code', code)
        back.searchParams.set('state', q.get('state') ?? '')
        return res.writeHead(302, { location: back.href }).end()
      }
      if (req.method === 'POST' && u.pathname === '/oauth2/token') {
        let body = ''
        for await (const chunk of req) body += chunk
        const p = new URLSearchParams(body)
        login.tokenRequests.push(p)
        const entry = codes.get(p.get('code') ?? '')
        codes.delete(p.get('code') ?? '')
        const verifier = p.get('code_verifier') ?? ''
        if (
          !entry ||
          p.get('grant_type') !== 'authorization_code' ||
          p.get('client_id') !== clientId ||
          p.get('redirect_uri') !== entry.redirectUri ||
          createHash('sha256').update(verifier).digest('base64url') !== entry.challenge
        )
          return fail(400, 'invalid_grant')
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ...entry.tokens, token_type: 'Bearer', expires_in: 3600 }))
      }
      fail(404, 'not_found')
    } catch (err) {
      fail(400, (err as Error).name)
    }
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  t.teardown(() => new Promise<void>((ok) => server.close(() => ok())))
  login.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return login
}
