import t from 'tap'
import { hostName, originPolicy } from '../../app/mcp/origin.js'

t.test('hostName: names, ports, IPv6 literals', async (t) => {
  t.equal(hostName('API.Example.com'), 'api.example.com')
  t.equal(hostName('localhost:8787'), 'localhost')
  t.equal(hostName('[::1]:8787'), '[::1]')
  t.equal(hostName('[::1]'), '[::1]')
})

t.test('originPolicy: loopback always, the public host when configured, nothing else', async (t) => {
  const local = originPolicy(undefined)
  for (const host of ['127.0.0.1:8787', 'localhost', '[::1]:9000'])
    t.equal(local.check(host, undefined), undefined, host)
  t.match(local.check('api.example.com', undefined), /Host header 'api.example.com' is not allowed/)
  t.match(local.check(undefined, undefined), /Host header '' is not allowed/)
  t.equal(local.check('localhost:1', 'http://127.0.0.1:6274'), undefined)
  t.equal(local.check('localhost:1', 'http://[::1]:6274'), undefined)
  t.match(local.check('localhost:1', 'http://localhost.evil.com'), /Origin/)
  t.match(local.check('localhost:1', 'file://'), /Origin/)

  const deployed = originPolicy('https://api.example.com')
  t.equal(deployed.check('api.example.com', 'https://api.example.com'), undefined)
  t.equal(deployed.check('API.EXAMPLE.COM:443', undefined), undefined, 'case and port do not matter')
  t.match(deployed.check('api.example.com.evil.net', undefined), /Host/)
  t.match(deployed.check('api.example.com', 'https://evil.example.com'), /Origin/)
})
