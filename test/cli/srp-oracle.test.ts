/**
 * The CLI's hand-written SRP client (app/cli/srp.ts) against AWS's own: amazon-cognito-identity-js
 * 6.3 (AuthenticationHelper for A, x, S and the HKDF key; CognitoUser's signature step and
 * DateHelper's timestamp, reproduced from its lib/CognitoUser.js). Same pool, user, password,
 * salt, secret block, private a, server B and clock → the same A, timestamp and
 * PASSWORD_CLAIM_SIGNATURE, so the sign-in math is proven against AWS's code, not assumed.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { cognitoTimestamp, N, SrpClient } from '../../app/cli/srp.js'

// The package is CommonJS; its helpers are default exports of internal modules.
const require = createRequire(import.meta.url)
const pkg = require.resolve('amazon-cognito-identity-js/package.json')
const fromPkg = createRequire(pkg)
interface BigInteger {
  toString(radix: number): string
}
type BigIntegerClass = new (hex: string, radix: number) => BigInteger
const BigIntegerAws: BigIntegerClass = fromPkg('./lib/BigInteger.js').default
const AuthenticationHelper: new (
  poolName: string,
) => {
  smallAValue: BigInteger
  largeAValue: BigInteger | undefined
  getLargeAValue(cb: (err: unknown, A: BigInteger) => void): void
  getPasswordAuthenticationKey(
    user: string,
    password: string,
    B: BigInteger,
    salt: BigInteger,
    cb: (err: unknown, hkdf: Buffer) => void,
  ): void
} = fromPkg('./lib/AuthenticationHelper.js').default
const DateHelper: new () => { getNowString(): string } = fromPkg('./lib/DateHelper.js').default
// The hash CognitoUser signs with: @aws-crypto/sha256-js, resolved from the package itself.
const { Sha256 } = createRequire(fromPkg.resolve('./lib/CognitoUser.js'))('@aws-crypto/sha256-js') as {
  Sha256: new (secret: Uint8Array) => { update(data: Uint8Array): void; digestSync(): Uint8Array }
}

/** DateHelper reads `new Date()`: run `fn` with the clock stopped at `at`. */
function atTime<T>(at: Date, fn: () => T): T {
  const RealDate = globalThis.Date
  class FrozenDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(at.getTime())
      else super(...(args as [number]))
    }
  }
  globalThis.Date = FrozenDate as DateConstructor
  try {
    return fn()
  } finally {
    globalThis.Date = RealDate
  }
}

interface Case {
  userPoolId: string
  userId: string
  password: string
  salt: string
  secretBlock: string
  a: bigint
  B: bigint
  now: Date
}

/** AWS's answer to PASSWORD_VERIFIER, step by step as CognitoUser.authenticateUserDefaultAuth does it. */
function awsAnswer(c: Case): { A: string; timestamp: string; signature: string } {
  const poolName = c.userPoolId.split('_')[1]
  const helper = new AuthenticationHelper(poolName)
  helper.smallAValue = new BigIntegerAws(c.a.toString(16), 16)
  helper.largeAValue = undefined
  let A = ''
  helper.getLargeAValue((err, value) => {
    if (err) throw err
    A = value.toString(16)
  })
  let hkdf: Buffer | undefined
  helper.getPasswordAuthenticationKey(
    c.userId,
    c.password,
    new BigIntegerAws(c.B.toString(16), 16),
    new BigIntegerAws(c.salt, 16),
    (err, key) => {
      if (err) throw err
      hkdf = key
    },
  )
  const timestamp = atTime(c.now, () => new DateHelper().getNowString())
  const hash = new Sha256(hkdf!)
  hash.update(
    Buffer.concat([
      Buffer.from(poolName, 'utf8'),
      Buffer.from(c.userId, 'utf8'),
      Buffer.from(c.secretBlock, 'base64'),
      Buffer.from(timestamp, 'utf8'),
    ]),
  )
  return { A, timestamp, signature: Buffer.from(hash.digestSync()).toString('base64') }
}

function ours(c: Case): { A: string; timestamp: string; signature: string } {
  const client = new SrpClient(c.userPoolId, c.a)
  const r = client.answer(
    { USER_ID_FOR_SRP: c.userId, SRP_B: c.B.toString(16), SALT: c.salt, SECRET_BLOCK: c.secretBlock },
    c.password,
    c.now,
  )
  return { A: client.srpA, timestamp: r.TIMESTAMP, signature: r.PASSWORD_CLAIM_SIGNATURE }
}

const random = (bytes: number) => BigInt(`0x${randomBytes(bytes).toString('hex')}`)
const randomCase = (over: Partial<Case> = {}): Case => ({
  userPoolId: 'eu-west-1_AbCdEf123',
  userId: '3f1c6a2e-7b1d-4c1e-9f00-0123456789ab',
  password: 'Corr3ct-Horse-Battery!',
  salt: randomBytes(16).toString('hex'),
  secretBlock: randomBytes(96).toString('base64'),
  a: random(128) % N,
  B: random(384) % N,
  now: new Date(Date.UTC(2026, 2, 3, 4, 5, 6)),
  ...over,
})

t.test('random sign-ins: the same A, timestamp and signature as AWS computes', async (t) => {
  for (let i = 0; i < 3; i++) {
    const c = randomCase({ now: new Date(Date.UTC(2024 + (i % 4), i % 12, 1 + i, i, (7 * i) % 60, (3 * i) % 60)) })
    t.same(ours(c), awsAnswer(c), `case ${i}`)
  }
})

t.test('the edges of the encoding', async (t) => {
  // AWS's BigInteger is slow with a 1024-bit a: the edges use a 128-bit one (the random cases above the full size).
  const cases: Array<[string, Partial<Case>]> = [
    ['salt with the top bit set (padded with 00)', { salt: `f${randomBytes(15).toString('hex')}` }],
    ['salt of odd hex length', { salt: `abc${randomBytes(15).toString('hex')}` }],
    ['salt with leading zero bytes (Cognito sends a number)', { salt: `007f${randomBytes(14).toString('hex')}` }],
    ['small salt', { salt: '1' }],
    ['B with the top bit set', { B: (BigInt(`0x8${'0'.repeat(767)}`) + random(64)) % N }],
    ['B smaller than a byte', { B: 2n }],
    ['small a', { a: 3n }],
    ['non-ASCII password, an e-mail as the user id', { password: 'pässwörd-日本-🔑', userId: 'alice@example.com' }],
  ]
  for (const [name, over] of cases) {
    const c = randomCase({ a: random(16), ...over })
    t.same(ours(c), awsAnswer(c), name)
  }
})

t.test('the timestamp is DateHelper.getNowString() at the same instant', async (t) => {
  const dates = [Date.UTC(2026, 0, 1, 0, 0, 0), Date.UTC(2025, 11, 31, 23, 59, 59), Date.UTC(2024, 1, 29, 9, 5, 7)]
  for (let i = 0; i < 40; i++) dates.push(Date.UTC(2000, 0, 1) + Number(random(6) % 3_000_000_000_000n))
  for (const ms of dates) {
    const at = new Date(ms)
    t.equal(
      cognitoTimestamp(at),
      atTime(at, () => new DateHelper().getNowString()),
      at.toISOString(),
    )
  }
})

t.test('a wrong password gives a different signature than AWS computes for the right one', async (t) => {
  const c = randomCase()
  t.not(ours({ ...c, password: 'wrong' }).signature, awsAnswer(c).signature)
})
