/** PENNYWORTH_COGNITO_*: derived defaults, local overrides, and errors that name the variable. */
import t from 'tap'
import { ConfigError, loadConfig } from '../../app/config.js'

t.test('absent: nobody can sign in', async (t) => {
  t.equal(loadConfig({}).cognito, undefined)
})

t.test('deployed: region from the pool id (or AWS_REGION), issuer and JWKS derived', async (t) => {
  const c = loadConfig({
    PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_AbC123',
    PENNYWORTH_COGNITO_CLIENT_ID: '1example23456789',
  }).cognito!
  t.same(c, {
    region: 'us-west-2',
    userPoolId: 'us-west-2_AbC123',
    clientId: '1example23456789',
    issuer: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_AbC123',
    jwksUrl: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_AbC123/.well-known/jwks.json',
  })
  t.equal(
    loadConfig({
      PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_AbC123',
      PENNYWORTH_COGNITO_CLIENT_ID: 'x',
      AWS_REGION: 'eu-west-1',
    }).cognito!.region,
    'eu-west-1',
  )
  t.equal(
    loadConfig({
      PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_AbC123',
      PENNYWORTH_COGNITO_CLIENT_ID: 'x',
      AWS_REGION: 'eu-west-1',
      PENNYWORTH_COGNITO_REGION: 'us-west-2',
    }).cognito!.region,
    'us-west-2',
  )
})

t.test('cognito-local: explicit issuer and JWKS URL', async (t) => {
  const c = loadConfig({
    PENNYWORTH_COGNITO_USER_POOL_ID: 'local_5kQ2',
    PENNYWORTH_COGNITO_CLIENT_ID: 'abc',
    PENNYWORTH_COGNITO_REGION: 'us-east-1',
    PENNYWORTH_COGNITO_ISSUER: 'http://127.0.0.1:9229/local_5kQ2/',
    PENNYWORTH_COGNITO_JWKS_URL: 'http://127.0.0.1:9229/local_5kQ2/.well-known/jwks.json',
  }).cognito!
  t.equal(c.issuer, 'http://127.0.0.1:9229/local_5kQ2', 'trailing slash dropped')
  t.equal(c.jwksUrl, 'http://127.0.0.1:9229/local_5kQ2/.well-known/jwks.json')
})

t.test('errors name the variable', async (t) => {
  const pool = { PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_AbC123' }
  const bad: Array<[Record<string, string>, string]> = [
    [pool, 'PENNYWORTH_COGNITO_CLIENT_ID'],
    [{ PENNYWORTH_COGNITO_CLIENT_ID: 'abc' }, 'PENNYWORTH_COGNITO_USER_POOL_ID'],
    [
      { PENNYWORTH_COGNITO_USER_POOL_ID: 'no-underscore', PENNYWORTH_COGNITO_CLIENT_ID: 'abc' },
      'PENNYWORTH_COGNITO_USER_POOL_ID',
    ],
    [{ ...pool, PENNYWORTH_COGNITO_CLIENT_ID: 'a b' }, 'PENNYWORTH_COGNITO_CLIENT_ID'],
    [{ PENNYWORTH_COGNITO_USER_POOL_ID: 'local_x', PENNYWORTH_COGNITO_CLIENT_ID: 'abc' }, 'PENNYWORTH_COGNITO_REGION'],
    [{ ...pool, PENNYWORTH_COGNITO_CLIENT_ID: 'abc', PENNYWORTH_COGNITO_REGION: 'mars' }, 'PENNYWORTH_COGNITO_REGION'],
    [
      { ...pool, PENNYWORTH_COGNITO_CLIENT_ID: 'abc', PENNYWORTH_COGNITO_ISSUER: 'cognito' },
      'PENNYWORTH_COGNITO_ISSUER',
    ],
    [
      { ...pool, PENNYWORTH_COGNITO_CLIENT_ID: 'abc', PENNYWORTH_COGNITO_JWKS_URL: 'ftp://x' },
      'PENNYWORTH_COGNITO_JWKS_URL',
    ],
  ]
  for (const [env, variable] of bad) {
    let thrown: unknown
    try {
      loadConfig(env)
    } catch (err) {
      thrown = err
    }
    t.ok(thrown instanceof ConfigError, `${variable}: ConfigError`)
    t.equal((thrown as ConfigError).variable, variable)
  }
})
