/**
 * The part of jose the token verifier uses (services/jwt.ts). Only ever loaded with `import()`
 * on the first request that carries a JWT, so it is a chunk of its own in the Lambda bundle
 * that a cold start (and every API-key request) does not load.
 */
export { createRemoteJWKSet, errors, jwtVerify } from 'jose'
