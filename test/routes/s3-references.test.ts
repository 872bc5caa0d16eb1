/**
 * Large inputs by reference: `s3://bucket/key` images and documents in every front door reach
 * Bedrock (the wire-protocol test server) as Converse `s3Location` for models that read S3
 * (Nova), or as bytes the gateway read from S3 (s3rver through the real S3 SDK) for the others;
 * buckets outside the operator's allow-list are a 400 naming the field, in each door's shape.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { echoHandler } from '../helpers/bedrock-server.js'
import { startGateway } from '../helpers/app.js'
import { startTestS3 } from '../helpers/s3.js'

const s3 = await startTestS3(t, ['allowed-bucket', 'owned-bucket', 'secret-bucket'])
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4])
const PDF = new TextEncoder().encode('%PDF-1.4 a small document')
await s3.put('allowed-bucket', 'photos/cat.png', PNG, 'image/png')
await s3.put('allowed-bucket', 'docs/report.pdf', PDF, 'application/pdf')
await s3.put('allowed-bucket', 'docs/big.pdf', new Uint8Array(5_000), 'application/pdf')
await s3.put('secret-bucket', 'photos/cat.png', PNG, 'image/png')

const gw = await startGateway(t, {
  bedrockHandler: echoHandler,
  s3: s3.provider,
  env: { PENNYWORTH_S3_BUCKETS: 'allowed-bucket, owned-bucket:123456789012', PENNYWORTH_S3_FETCH_MAX_BYTES: '4096' },
})
const openai = gw.openai()
const anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0, timeout: 20_000 })
const lastCall = () => gw.bedrock.calls.at(-1)!
const userContent = () => lastCall().body.messages[0].content as any[]
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

t.test('Chat Completions: an s3:// image_url reaches a Nova model as s3Location', async (t) => {
  await openai.chat.completions.create({
    model: 'nova-lite',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 's3://allowed-bucket/photos/cat.png' } },
        ],
      },
    ],
  })
  t.same(userContent()[1], {
    image: { format: 'png', source: { s3Location: { uri: 's3://allowed-bucket/photos/cat.png' } } },
  })
})

t.test('...and a Claude model gets the bytes the gateway read from S3', async (t) => {
  const stream = await openai.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 's3://allowed-bucket/photos/cat.png' } },
        ],
      },
    ],
  })
  for await (const _ of stream);
  t.same(userContent()[1], { image: { format: 'png', source: { bytes: b64(PNG) } } })
})

t.test('Messages: document and image url sources, with the allow-listed owner account', async (t) => {
  await anthropic.messages.create({
    model: 'nova-pro',
    max_tokens: 50,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'document', title: 'Report', source: { type: 'url', url: 's3://owned-bucket/q3/report.pdf' } },
          { type: 'image', source: { type: 'url', url: 's3://allowed-bucket/photos/cat.png' } },
          { type: 'text', text: 'summarise' },
        ],
      },
    ],
  })
  t.same(userContent()[0], {
    document: {
      format: 'pdf',
      name: 'Report',
      source: { s3Location: { uri: 's3://owned-bucket/q3/report.pdf', bucketOwner: '123456789012' } },
    },
  })
  t.same(userContent()[1].image.source, { s3Location: { uri: 's3://allowed-bucket/photos/cat.png' } })

  await anthropic.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'document', source: { type: 'url', url: 's3://allowed-bucket/docs/report.pdf' } },
          { type: 'text', text: 'summarise' },
        ],
      },
    ],
  })
  t.same(userContent()[0].document.source, { bytes: b64(PDF) }, 'read by the gateway for Claude')
  t.equal(userContent()[0].document.format, 'pdf')
})

t.test('Responses: input_file file_url and input_image image_url', async (t) => {
  await openai.responses.create({
    model: 'nova-lite',
    input: [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'compare' },
          { type: 'input_file', file_url: 's3://allowed-bucket/docs/report.pdf', filename: 'report' },
          { type: 'input_image', image_url: 's3://allowed-bucket/photos/cat.png', detail: 'auto' },
        ],
      },
    ],
  })
  t.same(userContent()[1].document.source, { s3Location: { uri: 's3://allowed-bucket/docs/report.pdf' } })
  t.same(userContent()[2].image.source, { s3Location: { uri: 's3://allowed-bucket/photos/cat.png' } })
})

t.test('a bucket outside the allow-list is a 400 naming the field, in every door', async (t) => {
  const before = gw.bedrock.calls.length
  const chat = await openai.chat.completions
    .create({
      model: 'nova-lite',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 's3://secret-bucket/photos/cat.png' } }] },
      ],
    })
    .catch((e) => e)
  t.equal(chat.status, 400)
  t.equal(chat.code, 's3_bucket_not_allowed')
  t.equal(chat.param, 'messages[0].content[0]')
  t.match(chat.message, /secret-bucket/)

  const messages = await anthropic.messages
    .create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 's3://secret-bucket/a.png' } }] },
      ],
    })
    .catch((e) => e)
  t.equal(messages.status, 400)
  t.equal(messages.error.type, 'error', "Anthropic's shape")
  t.equal(messages.error.error.type, 'invalid_request_error')
  t.match(messages.error.error.message, /messages\.0\.content\.0\.source\.url.*secret-bucket/)

  const responses = await openai.responses
    .create({
      model: 'nova-lite',
      input: [
        {
          role: 'user',
          content: [{ type: 'input_image', image_url: 's3://secret-bucket/photos/cat.png', detail: 'auto' }],
        },
      ],
    })
    .catch((e) => e)
  t.equal(responses.status, 400)
  t.equal(responses.code, 's3_bucket_not_allowed')
  t.equal(responses.param, 'input[0].content[0].image_url')
  t.equal(gw.bedrock.calls.length, before, 'Bedrock was never called')
})

t.test('objects the gateway cannot read: missing, too large, unknown type', async (t) => {
  const ask = (url: string) =>
    openai.chat.completions
      .create({
        model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
      })
      .catch((e) => e)
  const missing = await ask('s3://allowed-bucket/photos/dog.png')
  t.equal(missing.status, 400)
  t.equal(missing.code, 's3_object_not_found')
  const big = await anthropic.messages
    .create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [{ type: 'document', source: { type: 'url', url: 's3://allowed-bucket/docs/big.pdf' } }],
        },
      ],
    })
    .catch((e) => e)
  t.equal(big.status, 400)
  t.match(big.error.error.message, /big\.pdf is larger than the 4 KB this gateway reads/)
  const odd = await ask('s3://allowed-bucket/photos/cat.bmp')
  t.equal(odd.status, 400)
  t.equal(odd.code, 'invalid_image_format')
  const malformed = await ask('s3://Bad_Bucket/x.png')
  t.equal(malformed.status, 400)
  t.equal(malformed.code, 'invalid_s3_reference')
})
