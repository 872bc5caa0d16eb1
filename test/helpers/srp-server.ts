/**
 * Cognito's side of one USER_SRP_AUTH sign-in, computed from SRP-6a's definition (cognito-local
 * has no SRP): B from the stored verifier v = g^x, and the PASSWORD_CLAIM_SIGNATURE Cognito
 * expects back. Used by the SRP client's unit test (test/cli/srp.test.ts) and by the proxy that
 * plays Cognito for `pennyworth login` (test/app/cli-srp.test.ts).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { G, hexHash, K, modPow, N, padHex, passwordX } from '../../app/cli/srp.js'

/** One sign-in's server state: the challenge parameters and the signature check. */
export interface SrpServer {
  /** The PASSWORD_VERIFIER challenge's parameters, as Cognito sends them. */
  params: { USER_ID_FOR_SRP: string; USERNAME: string; SRP_B: string; SALT: string; SECRET_BLOCK: string }
  /** The signature a client that knows the password sends for its `A` and `timestamp`. */
  expectedSignature(A: bigint, timestamp: string): string
}

/** Cognito's side of one sign-in of `userId` (the pool's user id for SRP) with `password`. */
export function srpServer(poolName: string, userId: string, password: string): SrpServer {
  const salt = randomBytes(16).toString('hex')
  const v = modPow(G, passwordX(poolName, userId, password, salt), N)
  const b = BigInt(`0x${randomBytes(128).toString('hex')}`) % N
  const B = (K * v + modPow(G, b, N)) % N
  const secretBlock = randomBytes(64).toString('base64')
  return {
    params: { USER_ID_FOR_SRP: userId, USERNAME: userId, SRP_B: B.toString(16), SALT: salt, SECRET_BLOCK: secretBlock },
    expectedSignature(A: bigint, timestamp: string): string {
      const u = BigInt(`0x${hexHash(padHex(A) + padHex(B))}`)
      const S = modPow(A * modPow(v, u, N), b, N) // (A · v^u)^b
      const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex'))
        .update(Buffer.from(padHex(S), 'hex'))
        .digest()
      const key = createHmac('sha256', prk)
        .update(Buffer.concat([Buffer.from('Caldera Derived Key'), Buffer.from([1])]))
        .digest()
        .subarray(0, 16)
      return createHmac('sha256', key)
        .update(
          Buffer.concat([
            Buffer.from(poolName),
            Buffer.from(userId),
            Buffer.from(secretBlock, 'base64'),
            Buffer.from(timestamp),
          ]),
        )
        .digest('base64')
    },
  }
}
