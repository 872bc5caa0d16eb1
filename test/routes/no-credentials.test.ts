/**
 * No AWS credentials anywhere (issue 14, item 4): a local user who starts the gateway without a
 * profile or keys gets a message that says so and how to set them, not "could not be reached".
 * The SDK's real default credential chain runs with an empty environment and no config files.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiError } from '../helpers/api-error.js'
import { startGateway } from '../helpers/app.js'

// This file runs in its own process: an environment with nothing the credential chain can use.
const empty = mkdtempSync(join(tmpdir(), 'pennyworth-nocreds-'))
for (const name of Object.keys(process.env))
  if (name.startsWith('AWS_') && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') delete process.env[name]
Object.assign(process.env, {
  AWS_SHARED_CREDENTIALS_FILE: join(empty, 'credentials'),
  AWS_CONFIG_FILE: join(empty, 'config'),
  AWS_EC2_METADATA_DISABLED: 'true',
  HOME: empty,
})

const gw = await startGateway(t, {
  env: { PENNYWORTH_UPSTREAM_RETRIES: '0' },
  bedrockClient: { credentials: undefined },
})

t.test('no credentials: 502 naming the missing credentials and how to set them, in each door', async (t) => {
  for (const stream of [false, true]) {
    const e = await apiError(
      (async () => {
        const r = await gw.openai().chat.completions.create({
          model: 'claude-haiku-4-5',
          messages: [{ role: 'user', content: 'hi' }],
          stream,
        })
        if (stream) for await (const _ of r as AsyncIterable<unknown>);
      })(),
    )
    t.equal(e.status, 502, `chat${stream ? ' stream' : ''}`)
    t.match(e.error, { type: 'api_error', code: 'upstream_credentials_missing' })
    t.match(e.message, /No AWS credentials were found/)
    t.match(e.message, /AWS_PROFILE/)
    t.match(e.message, /AWS_ACCESS_KEY_ID/)
    t.match(e.message, /pennyworth-mock/)
    t.notMatch(e.message, /could not be reached/)
  }
  const anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0 })
  const err = await anthropic.messages
    .create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e)
  t.ok(err instanceof Anthropic.APIError)
  t.match(err, { status: 500, error: { error: { type: 'api_error', message: /No AWS credentials were found/ } } })
  t.equal(gw.bedrock.calls.length, 0, 'nothing reached the upstream unsigned')
})

t.test('the mock model still answers without credentials', async (t) => {
  const r = await gw.openai().chat.completions.create({
    model: 'pennyworth-mock',
    messages: [{ role: 'user', content: 'hi' }],
  })
  t.ok(r.choices[0].message.content)
})
