/** Local console sign-in: links are single-use and short-lived, sessions expire, only hashes are kept. */
import t from 'tap'
import { LOCAL_ADMIN, LocalConsoleLogin, isLoopbackAddress } from '../../app/services/console-login.js'

t.test('a link buys one session, once', async (t) => {
  const login = new LocalConsoleLogin()
  const link = login.issueLink()
  t.match(link, /^pwl-[A-Za-z0-9_-]{43}$/)
  const session = login.exchange(link)!
  t.match(session.token, /^pws-[A-Za-z0-9_-]{43}$/)
  t.same(login.verify(session.token, '127.0.0.1'), LOCAL_ADMIN)
  t.equal(login.exchange(link), undefined, 'used')
  t.equal(login.verify(link, '127.0.0.1'), undefined, 'a link is not a session')
  t.equal(login.exchange(session.token), undefined, 'a session is not a link')
  t.equal(login.verify(`${session.token.slice(0, -1)}${session.token.endsWith('A') ? 'B' : 'A'}`, '::1'), undefined)
  t.notOk(JSON.stringify(login).includes(session.token.slice(4)), 'the token is not kept in clear')
  for (const peer of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.2', '2001:db8::1', undefined])
    t.equal(login.verify(session.token, peer), undefined, `refused from ${peer}`)
  for (const peer of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
    t.ok(login.verify(session.token, peer), `accepted from ${peer}`)
  t.ok(isLoopbackAddress('127.0.0.1'))
  login.revoke(session.token)
  t.equal(login.verify(session.token, '127.0.0.1'), undefined, 'revoked')
})

t.test('links and sessions expire', async (t) => {
  let now = 1_000_000
  const login = new LocalConsoleLogin({ now: () => now, linkTtlMs: 60_000, sessionTtlMs: 3_600_000 })
  const late = login.issueLink()
  now += 60_000
  t.equal(login.exchange(late), undefined, 'a link 60 s old is refused')
  const link = login.issueLink()
  now += 59_999
  const session = login.exchange(link)!
  t.equal(session.expiresAt, new Date(now + 3_600_000).toISOString())
  now += 3_599_999
  t.ok(login.verify(session.token, '127.0.0.1'), 'valid until its end')
  now += 1
  t.equal(login.verify(session.token, '127.0.0.1'), undefined, 'then refused')
})

t.test('garbage is refused without throwing', async (t) => {
  const login = new LocalConsoleLogin()
  for (const s of ['', 'pwl-', 'pw-abc-def', 'x'.repeat(10_000), 'pwl-../../etc/passwd']) {
    t.equal(login.exchange(s), undefined)
    t.equal(login.verify(s, '127.0.0.1'), undefined)
  }
  t.equal(login.verify(LOCAL_ADMIN.sub, '127.0.0.1'), undefined)
})
