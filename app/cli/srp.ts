/**
 * Cognito's USER_SRP_AUTH, client side: the password never leaves the machine, not even over TLS.
 * SRP-6a over the 3072-bit group of RFC 5054 with g = 2 and SHA-256, plus Cognito's own steps:
 * x = H(salt | H(poolName | userId | ":" | password)), a 16-byte HKDF key ("Caldera Derived Key")
 * and an HMAC over poolName | userId | secret block | timestamp. This follows the algorithm of
 * AWS's amazon-cognito-identity-js AuthenticationHelper (written here with Node's BigInt and
 * crypto; no runtime dependency). test/cli/srp-oracle.test.ts checks it against that code.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow-methods.html
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'

export const N_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
  'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
  '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
  '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
  'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF'
export const N = BigInt(`0x${N_HEX}`)
export const G = 2n

/** Hex of a non-negative integer as Cognito hashes it: even length, and a leading 00 if the top bit is set. */
export function padHex(value: bigint | string): string {
  let hex = typeof value === 'string' ? value : value.toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  else if (/^[89a-f]/i.test(hex)) hex = `00${hex}`
  return hex
}

const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex').padStart(64, '0')
export const hexHash = (hex: string) => sha256Hex(Buffer.from(hex, 'hex'))

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n
  let b = ((base % mod) + mod) % mod
  let e = exp
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod
    b = (b * b) % mod
    e >>= 1n
  }
  return result
}

/** k = H(pad(N) | pad(g)). */
export const K = BigInt(`0x${hexHash(padHex(N) + padHex(G))}`)

/** "Tue Mar 3 04:05:06 UTC 2026": English names, day of month not padded, UTC. */
export function cognitoTimestamp(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]
  const two = (n: number) => String(n).padStart(2, '0')
  return (
    `${day} ${month} ${d.getUTCDate()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ` +
    `${d.getUTCFullYear()}`
  )
}

/**
 * x = H(pad(salt) | H(poolName | userId | ":" | password)). The salt is a number, as in AWS's
 * own client (leading zero bytes in SALT do not count). Exported for the test's verifier.
 */
export function passwordX(poolName: string, userId: string, password: string, saltHex: string): bigint {
  const inner = sha256Hex(`${poolName}${userId}:${password}`)
  return BigInt(`0x${hexHash(padHex(BigInt(`0x${saltHex}`)) + inner)}`)
}

/** One SRP session: make A, then answer the PASSWORD_VERIFIER challenge. */
export class SrpClient {
  private readonly a: bigint
  readonly A: bigint

  constructor(
    private readonly userPoolId: string,
    a?: bigint,
  ) {
    // 128 random bytes, as AWS's own clients use.
    this.a = a ?? BigInt(`0x${randomBytes(128).toString('hex')}`) % N
    this.A = modPow(G, this.a, N)
    if (this.A % N === 0n) throw new Error('SRP: bad A')
  }

  /** SRP_A for InitiateAuth. */
  get srpA(): string {
    return this.A.toString(16)
  }

  private get poolName(): string {
    return this.userPoolId.split('_')[1]
  }

  /**
   * ChallengeResponses for PASSWORD_VERIFIER from its ChallengeParameters
   * (USER_ID_FOR_SRP, SRP_B, SALT, SECRET_BLOCK).
   */
  answer(params: Record<string, string>, password: string, now = new Date()): Record<string, string> {
    const userId = params.USER_ID_FOR_SRP
    const B = BigInt(`0x${params.SRP_B}`)
    if (B % N === 0n) throw new Error('SRP: the server sent an invalid B')
    const u = BigInt(`0x${hexHash(padHex(this.A) + padHex(B))}`)
    if (u === 0n) throw new Error('SRP: u is zero')
    const x = passwordX(this.poolName, userId, password, params.SALT)
    const S = modPow(B - K * modPow(G, x, N), this.a + u * x, N)
    // HKDF-SHA256(ikm = S, salt = u, info = "Caldera Derived Key"), first 16 bytes.
    const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex'))
      .update(Buffer.from(padHex(S), 'hex'))
      .digest()
    const key = createHmac('sha256', prk)
      .update(Buffer.concat([Buffer.from('Caldera Derived Key'), Buffer.from([1])]))
      .digest()
      .subarray(0, 16)
    const timestamp = cognitoTimestamp(now)
    const signature = createHmac('sha256', key)
      .update(
        Buffer.concat([
          Buffer.from(this.poolName),
          Buffer.from(userId),
          Buffer.from(params.SECRET_BLOCK, 'base64'),
          Buffer.from(timestamp),
        ]),
      )
      .digest('base64')
    return {
      USERNAME: params.USERNAME ?? userId,
      PASSWORD_CLAIM_SECRET_BLOCK: params.SECRET_BLOCK,
      PASSWORD_CLAIM_SIGNATURE: signature,
      TIMESTAMP: timestamp,
    }
  }
}
