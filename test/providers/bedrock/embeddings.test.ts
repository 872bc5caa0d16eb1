import t from 'tap'
import {
  COHERE_MAX_CHARS,
  embeddingFormat,
  estimateTokens,
  mapBounded,
  parseEmbeddingResponse,
  planEmbeddingCalls,
} from '../../../app/providers/bedrock/embeddings.js'
import type { EmbeddingRequest } from '../../../app/providers/types.js'
import { model } from '../../fixtures/bedrock.js'

const titan = (inputs: string[], dimensions?: number): EmbeddingRequest => ({
  model: model('titan-embed-text-v2'),
  inputs,
  dimensions,
})
const cohere = (inputs: string[], extra: Partial<EmbeddingRequest> = {}): EmbeddingRequest => ({
  model: model('cohere-embed-english-v3'),
  inputs,
  ...extra,
})

t.test('Titan v2: one input per call, dimensions, normalize', async (t) => {
  t.same(planEmbeddingCalls(titan(['a', 'b'])), [
    { body: { inputText: 'a', dimensions: 1024, normalize: true }, indices: [0] },
    { body: { inputText: 'b', dimensions: 1024, normalize: true }, indices: [1] },
  ])
  for (const d of [256, 512, 1024]) t.equal(planEmbeddingCalls(titan(['a'], d))[0].body.dimensions, d)
  for (const d of [0, 128, 768, 1536]) {
    t.throws(
      () => planEmbeddingCalls(titan(['a'], d)),
      { status: 400, param: 'dimensions', code: 'unsupported_dimensions' },
      String(d),
    )
  }
})

t.test('Cohere v3: batches of 96, input_type, truncate NONE', async (t) => {
  const inputs = Array.from({ length: 200 }, (_, i) => `text ${i}`)
  const calls = planEmbeddingCalls(cohere(inputs))
  t.same(
    calls.map((c) => c.indices.length),
    [96, 96, 8],
  )
  t.same(
    calls.flatMap((c) => c.indices),
    inputs.map((_, i) => i),
    'positions cover the input in order',
  )
  t.same(calls[2].body, { texts: inputs.slice(192), input_type: 'search_document', truncate: 'NONE' })
  t.equal(planEmbeddingCalls(cohere(['q'], { inputType: 'search_query' }))[0].body.input_type, 'search_query')
  t.equal(planEmbeddingCalls(cohere(['q'], { dimensions: 1024 })).length, 1)
  t.throws(
    () => planEmbeddingCalls(cohere(['q'], { dimensions: 512 })),
    { name: 'ApiError', status: 400, param: 'dimensions' },
    'cohere 512',
  )
  t.throws(() => planEmbeddingCalls(cohere(['ok', 'x'.repeat(COHERE_MAX_CHARS + 1)])), {
    status: 400,
    param: 'input',
    code: 'input_too_long',
    message: /input\[1\]/,
  })
  t.same(
    planEmbeddingCalls({
      ...cohere(['a', 'b', 'c']),
      model: { ...model('cohere-embed-english-v3'), capabilities: { embeddingFormat: 'cohere-v3', maxBatch: 2 } },
    }).map((c) => c.indices),
    [[0, 1], [2]],
    'catalog maxBatch honoured',
  )
})

t.test('refusals: empty inputs, non-embedding models', async (t) => {
  t.throws(() => planEmbeddingCalls(titan([])), { name: 'ApiError', status: 400, param: 'input' }, 'empty input')
  t.throws(() => planEmbeddingCalls(titan(['a', ''])), { status: 400, param: 'input', code: 'empty_input' })
  t.throws(() => embeddingFormat({ model: model('claude-sonnet-4-5'), inputs: ['x'] }), {
    status: 400,
    param: 'model',
    code: 'model_not_embedding',
  })
  t.throws(
    () => embeddingFormat({ model: model('pennyworth-mock-embed'), inputs: ['x'] }),
    { name: 'ApiError', status: 400 },
    'mock embed model',
  )
})

t.test('response parsing', async (t) => {
  t.same(parseEmbeddingResponse('titan-v2', { embedding: [0.1, 0.2], inputTextTokenCount: 3 }, 1), {
    vectors: [[0.1, 0.2]],
    inputTokens: 3,
  })
  t.same(parseEmbeddingResponse('titan-v2', { embedding: [0.1] }, 1), { vectors: [[0.1]], inputTokens: undefined })
  t.same(
    parseEmbeddingResponse(
      'cohere-v3',
      { embeddings: [[1], [2]], id: 'x', texts: ['a', 'b'], response_type: 'embeddings_floats' },
      2,
    ),
    { vectors: [[1], [2]] },
  )
  t.same(
    parseEmbeddingResponse('cohere-v3', { embeddings: { float: [[1]] }, response_type: 'embeddings_by_type' }, 1),
    { vectors: [[1]] },
  )
  t.throws(
    () => parseEmbeddingResponse('titan-v2', { nope: 1 }, 1),
    { status: 502, code: 'upstream_bad_response' },
    'titan without embedding',
  )
  t.throws(
    () => parseEmbeddingResponse('cohere-v3', { embeddings: [[1]] }, 2),
    { name: 'ApiError', status: 502 },
    'count mismatch',
  )
  t.throws(
    () => parseEmbeddingResponse('cohere-v3', { embeddings: [['x']] }, 1),
    { name: 'ApiError', status: 502 },
    'not numbers',
  )
  t.throws(() => parseEmbeddingResponse('cohere-v3', null, 1), { name: 'ApiError', status: 502 }, 'null body')
})

t.test('token estimate: ~4 characters per token', async (t) => {
  t.equal(estimateTokens(['abcd', 'abcde', '']), 1 + 2 + 0)
})

t.test('mapBounded: order kept, concurrency bounded, stops after a failure', async (t) => {
  let inFlight = 0
  let peak = 0
  const res = await mapBounded(
    Array.from({ length: 20 }, (_, i) => i),
    8,
    async (n) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((r) => setTimeout(r, (20 - n) % 5))
      inFlight--
      return n * 2
    },
  )
  t.same(
    res,
    Array.from({ length: 20 }, (_, i) => i * 2),
  )
  t.equal(peak, 8)
  t.same(await mapBounded([], 8, async () => 1), [])

  let started = 0
  await t.rejects(
    mapBounded(
      Array.from({ length: 50 }, (_, i) => i),
      2,
      async (n) => {
        started++
        await new Promise((r) => setTimeout(r, 1))
        if (n === 1) throw new Error('fail')
        return n
      },
    ),
    /fail/,
  )
  t.ok(started < 10, `no new calls after the failure (started ${started})`)
})
