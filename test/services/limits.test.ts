/**
 * LimitsService in isolation (fake stores, fake clock): estimates, what is written when,
 * refunds when one check passes and the other refuses, token corrections across windows.
 */
import t from 'tap'
import { BackgroundWriter } from '../../app/lib/background.js'
import type { ChatCompletionRequest } from '../../app/schemas/chat.js'
import { loadCatalog } from '../../app/services/catalog.js'
import type { KeyPrincipal } from '../../app/services/keys.js'
import { estimateEmbedding, IMAGE_TOKENS, LimitsService } from '../../app/services/limits.js'
import { estimateChat as estimateCall } from '../../app/services/estimate.js'
import { decodeChatRequest } from '../../app/doors/openai-chat/decode.js'
import type { CatalogModel } from '../../app/schemas/catalog.js'
import type { AdmitRequest, WindowCounts } from '../../app/store/rate-limits.js'
import type { SpendRecord } from '../../app/store/usage.js'
import type { OpenCall } from '../../app/store/ledger.js'
import { storeUnavailable, type LedgerCall } from '../../app/services/metering.js'

const catalog = loadCatalog()
const sonnet = catalog.models.find((m) => m.id === 'claude-sonnet-4-5')!
const quiet = { warn() {}, error() {} }
/** Estimates over the neutral call an OpenAI request decodes to. */
const estimateChat = (body: ChatCompletionRequest, model: CatalogModel) => estimateCall(decodeChatRequest(body, model))

t.test('estimates', async (t) => {
  const body = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
    model: 'claude-sonnet-4-5',
    messages: [{ role: 'user', content: 'x'.repeat(384) }],
    ...extra,
  })
  t.same(estimateChat(body({ max_tokens: 50 }), sonnet), {
    inputTokens: 100,
    maxOutputTokens: 50,
    requestedOutputTokens: 50,
  })
  t.same(
    estimateChat(body(), sonnet),
    { inputTokens: 100, maxOutputTokens: 64_000, requestedOutputTokens: 0 },
    'no max_tokens: the model cap prices the budget',
  )
  t.equal(estimateChat(body({ max_completion_tokens: 10, max_tokens: 99 }), sonnet).requestedOutputTokens, 10)
  t.equal(
    estimateChat(body({ max_tokens: 50, reasoning_effort: 'high' }), sonnet).maxOutputTokens,
    24_576 + 50,
    'thinking raises the upstream maxTokens above max_tokens: the estimate follows it',
  )
  const image = estimateChat(
    {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'y'.repeat(48) },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(1_000_000)}` } },
          ],
        },
      ],
    },
    sonnet,
  )
  t.equal(image.inputTokens, 16 + IMAGE_TOKENS, 'an image counts a fixed allowance, not its base64 size')
  const tools = estimateChat(
    body({
      tools: [
        {
          type: 'function',
          function: {
            name: 'f',
            parameters: { type: 'object', properties: { a: { type: 'string', description: 'z'.repeat(400) } } },
          },
        },
      ],
    }),
    sonnet,
  )
  t.ok(tools.inputTokens > 200, 'tool definitions count')
  t.same(estimateEmbedding(['abcd', 'abcde']), { inputTokens: 3, maxOutputTokens: 0, requestedOutputTokens: 0 })
})

/** Fake stores recording every call; answers as configured. */
function setup(opts: { budgetOk?: boolean; rateOk?: boolean; counts?: WindowCounts; storeDown?: boolean } = {}) {
  const calls: string[] = []
  let now = Date.parse('2026-11-25T10:00:30Z')
  const spend: SpendRecord = { costMicroUsd: 0, committedMicroUsd: 0 }
  // A fake ledger: the write-ahead record is the reservation for keys with a budget.
  const ledger = {
    async open(req: {
      keyId: string
      owner: string
      modelId: string
      reserveMicroUsd: number
      limit?: number
      wantSpend?: boolean
      estimate: OpenCall['estimate']
    }) {
      calls.push(
        req.limit !== undefined
          ? `reserve 2026-11 ${req.reserveMicroUsd} <${req.limit}`
          : req.wantSpend
            ? 'open+spend'
            : 'open',
      )
      if (opts.storeDown) throw storeUnavailable()
      if (opts.budgetOk === false) return { ok: false as const, spend: { costMicroUsd: 900, committedMicroUsd: 900 } }
      spend.committedMicroUsd += req.reserveMicroUsd
      const open: OpenCall = {
        callId: 'c1',
        modelId: req.modelId,
        day: '2026-11-25',
        leaseUntil: now + 1,
        reserveMicroUsd: req.reserveMicroUsd,
        estimate: req.estimate,
      }
      return {
        ok: true as const,
        call: { id: 'c1', keyId: req.keyId, owner: req.owner, month: '2026-11', open, durable: Promise.resolve() },
        spend: { ...spend },
      }
    },
    cancel(call: LedgerCall) {
      calls.push(`release ${call.month} ${call.open.reserveMicroUsd}`)
    },
  }
  const rateLimits = {
    async admit(req: AdmitRequest) {
      calls.push(
        `admit ${new Date(req.window).toISOString().slice(11, 16)} ${req.tokens} rpm<${req.rpm} tpm<${req.tpm}`,
      )
      return { ok: opts.rateOk !== false, counts: opts.counts ?? { requests: 1, tokens: req.tokens } }
    },
    async adjust(_keyId: string, window: number, delta: Partial<WindowCounts>) {
      calls.push(`adjust ${new Date(window).toISOString().slice(11, 16)} ${delta.requests ?? 0} ${delta.tokens ?? 0}`)
    },
  }
  const background = new BackgroundWriter({ log: quiet })
  const limits = new LimitsService({ ledger, rateLimits, background, now: () => now })
  return {
    calls,
    limits,
    background,
    tick: (ms: number) => {
      now += ms
    },
  }
}
const principal = (limits: KeyPrincipal['limits']): KeyPrincipal => ({
  kind: 'api-key',
  keyId: 'k',
  owner: 'o',
  name: 'n',
  models: ['*'],
  ...(limits ? { limits } : {}),
})
const estimate = { inputTokens: 100, maxOutputTokens: 200, requestedOutputTokens: 50 }
// Worst case: max output.
const reserve = Math.round(100 * sonnet.pricing.inputPerMTok + 200 * sonnet.pricing.outputPerMTok)

t.test('a key without limits: only its write-ahead record, no notes', async (t) => {
  const { calls, limits } = setup()
  const permit = await limits.admit(principal(undefined), sonnet, estimate, quiet)
  t.same(permit.notes, {})
  t.equal(permit.call?.id, 'c1', 'the permit carries the ledger record its usage settles')
  permit.settle({ inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 })
  t.same(calls, ['open'])
})

t.test('admitted: reservation and window charged at once; settle corrects the tokens only', async (t) => {
  const { calls, limits, background } = setup()
  const permit = await limits.admit(
    principal({ monthlyBudgetMicroUsd: 10_000, rpm: 10, tpm: 1_000 }),
    sonnet,
    estimate,
    quiet,
  )
  t.same(calls.sort(), [`admit 10:00 150 rpm<10 tpm<1000`, `reserve 2026-11 ${reserve} <10000`].sort())
  t.same(permit.reservation, { month: '2026-11', microUsd: reserve }, 'released by the usage record, not here')
  t.same(permit.notes, {
    rateLimit: {
      requests: { limit: 10, remaining: 9, resetSeconds: 30 },
      tokens: { limit: 1_000, remaining: 850, resetSeconds: 30 },
    },
  })
  calls.length = 0
  permit.settle({ inputTokens: 90, outputTokens: 40, cacheReadTokens: 5, cacheWriteTokens: 5 })
  permit.settle({ inputTokens: 90, outputTokens: 40, cacheReadTokens: 5, cacheWriteTokens: 5 })
  await background.flush()
  t.same(calls, ['adjust 10:00 0 -10'], 'once: 140 actual − 150 charged')
})

t.test('budget refused: the window admission is refunded; 429 budget_exceeded', async (t) => {
  const { calls, limits, background } = setup({ budgetOk: false })
  await t.rejects(limits.admit(principal({ monthlyBudgetMicroUsd: 900, rpm: 10 }), sonnet, estimate, quiet), {
    status: 429,
    code: 'budget_exceeded',
    shouldRetry: false,
  })
  await background.flush()
  t.ok(calls.includes('adjust 10:00 -1 -150'))
})

t.test('rate refused: the reservation is released; 429 with retry-after', async (t) => {
  const { calls, limits, background } = setup({ rateOk: false, counts: { requests: 10, tokens: 5 } })
  await t.rejects(limits.admit(principal({ monthlyBudgetMicroUsd: 10_000, rpm: 10 }), sonnet, estimate, quiet), {
    status: 429,
    code: 'rate_limit_exceeded',
    retryAfterSeconds: 30,
    rateLimit: { requests: { limit: 10, remaining: 0, resetSeconds: 30 } },
  })
  await background.flush()
  t.ok(calls.includes(`release 2026-11 ${reserve}`))
})

t.test('cancel gives everything back; corrections after the window count in the current one', async (t) => {
  const { calls, limits, background, tick } = setup()
  const p = principal({ monthlyBudgetMicroUsd: 10_000, tpm: 1_000 })
  const cancelled = await limits.admit(p, sonnet, estimate, quiet)
  cancelled.cancel()
  cancelled.cancel()
  await background.flush()
  t.same(calls.filter((c) => !c.startsWith('admit') && !c.startsWith('reserve')).sort(), [
    'adjust 10:00 0 -150',
    `release 2026-11 ${reserve}`,
  ])

  calls.length = 0
  const long = await limits.admit(p, sonnet, estimate, quiet)
  tick(90_000) // a long stream ends two windows later
  long.settle({ inputTokens: 100, outputTokens: 500, cacheReadTokens: 0, cacheWriteTokens: 0 })
  await background.flush()
  t.ok(calls.includes('adjust 10:02 0 450'), 'the extra tokens count where they were used')

  calls.length = 0
  const short = await limits.admit(p, sonnet, estimate, quiet)
  tick(60_000)
  short.settle({ inputTokens: 10, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 })
  await background.flush()
  t.notOk(
    calls.some((c) => c.startsWith('adjust')),
    'nothing to refund in a window that is over',
  )
})

t.test('the shared state is unreachable: 503, and what did pass is refunded', async (t) => {
  const { limits, background, calls } = setup({ storeDown: true })
  await t.rejects(limits.admit(principal({ monthlyBudgetMicroUsd: 1, rpm: 10 }), sonnet, estimate, quiet), {
    status: 503,
    code: 'metering_unavailable',
    retryAfterSeconds: 1,
  })
  await background.flush()
  t.ok(calls.includes('adjust 10:00 -1 -150'))
})
