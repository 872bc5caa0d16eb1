/**
 * The CLI's SRP client (USER_SRP_AUTH) against a server side computed from SRP-6a's definition
 * (test/helpers/srp-server.ts): the server derives the same key from the verifier v = g^x and
 * checks the client's PASSWORD_CLAIM_SIGNATURE the way Cognito does. (cognito-local has no SRP.)
 */
import t from 'tap'
import { cognitoTimestamp, modPow, N, padHex, SrpClient } from '../../app/cli/srp.js'
import { srpServer as server } from '../helpers/srp-server.js'

t.test('the signature matches the server side for the right password only', async (t) => {
  for (let i = 0; i < 5; i++) {
    const srv = server('AbCdEf123', `3f1c6a2e-0000-4000-8000-00000000000${i}`, 'Corr3ct-Horse!')
    const client = new SrpClient('us-west-2_AbCdEf123')
    const answer = client.answer(srv.params, 'Corr3ct-Horse!')
    t.equal(answer.PASSWORD_CLAIM_SIGNATURE, srv.expectedSignature(client.A, answer.TIMESTAMP), `round ${i}`)
    t.equal(answer.PASSWORD_CLAIM_SECRET_BLOCK, srv.params.SECRET_BLOCK)
    t.equal(answer.USERNAME, srv.params.USERNAME)
    const wrong = new SrpClient('us-west-2_AbCdEf123').answer(srv.params, 'wrong')
    t.not(wrong.PASSWORD_CLAIM_SIGNATURE, srv.expectedSignature(client.A, wrong.TIMESTAMP))
  }
  t.match(new SrpClient('us-west-2_X').srpA, /^[0-9a-f]+$/)
})

t.test('Cognito formats', async (t) => {
  t.equal(cognitoTimestamp(new Date('2026-03-03T04:05:06Z')), 'Tue Mar 3 04:05:06 UTC 2026', 'day of month not padded')
  t.equal(cognitoTimestamp(new Date('2025-12-28T23:59:09Z')), 'Sun Dec 28 23:59:09 UTC 2025')
  t.equal(padHex(0x7fn), '7f')
  t.equal(padHex(0x80n), '0080', 'top bit set: a leading 00 keeps it positive')
  t.equal(padHex(0xfffn), '0fff')
  t.equal(padHex('abc'), '0abc')
  t.equal(N.toString(16).length, 768, '3072-bit group')
  t.equal(modPow(3n, 200n, 1000007n), 3n ** 200n % 1000007n)
  // B ≡ 0 (mod N) would make the key predictable: refused.
  t.throws(
    () =>
      new SrpClient('p_x').answer({ USER_ID_FOR_SRP: 'u', SRP_B: N.toString(16), SALT: '00', SECRET_BLOCK: '' }, 'p'),
    /invalid B/,
  )
})
