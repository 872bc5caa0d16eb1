/**
 * What every model use case (chat, embeddings) does around its provider call: find the served
 * model the caller named, check the key may use it and that it is the right kind, pick its
 * provider, and meter the call. Knows nothing of HTTP.
 */
import { badRequest, modelNotFound } from '../errors.js'
import type { CallContext } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { TokenUsage } from '../schemas/chat.js'
import { costMicroUsd, type ModelRegistry } from './catalog.js'
import { assertModelAllowed, type KeyPrincipal } from './keys.js'
import type { CallEstimate, LimitsService, Permit } from './limits.js'
import type { UsageSink } from './usage-sink.js'

const WRONG_KIND: Record<CatalogModel['kind'], { message: (name: string) => string; code: string }> = {
  // Asked for a chat model, got an embedding model.
  chat: { message: (name) => `The model '${name}' is an embedding model; use /v1/embeddings.`, code: 'model_not_chat' },
  embedding: {
    message: (name) => `The model '${name}' is a chat model; use /v1/chat/completions.`,
    code: 'model_not_embedding',
  },
}

/**
 * The served model called `name` (id or alias), of the wanted kind.
 * @throws ApiError 404 unknown (or not served), 403 the key may not use it, 400 wrong kind.
 */
export function resolveServedModel(
  registry: ModelRegistry,
  name: string,
  principal: KeyPrincipal,
  kind: CatalogModel['kind'],
): CatalogModel {
  const model = registry.resolve(name)
  if (!model) throw modelNotFound(name)
  assertModelAllowed(principal, model.id)
  if (model.kind !== kind) throw badRequest(WRONG_KIND[kind].message(name), 'model', WRONG_KIND[kind].code)
  return model
}

/** The provider serving `model` (a 404 when this gateway was built without it). */
export function providerFor<P>(
  providers: Partial<Record<CatalogModel['provider'], P>>,
  model: CatalogModel,
  name: string,
): P {
  const provider = providers[model.provider]
  if (!provider) throw modelNotFound(name)
  return provider
}

/**
 * The budget and rate-limit check every metered call passes before its upstream call (429 /
 * 503 otherwise); tells the context the key's rate-limit window and any budget warning. Report the call with
 * `meterCall(…, permit)`, or `permit.cancel()` if it fails unmetered. `fallbacks`: the models
 * the call may end up on instead (its budget reservation covers the dearest).
 */
export async function admitCall(
  limits: LimitsService,
  principal: KeyPrincipal,
  model: CatalogModel,
  estimate: CallEstimate,
  ctx: Pick<CallContext, 'log' | 'annotate'> & Partial<Pick<CallContext, 'requestId' | 'observe'>>,
  fallbacks: readonly CatalogModel[] = [],
): Promise<Permit> {
  // The catalog id, known from here on (a refused call is still counted under its model).
  ctx.observe?.setModel(model.id)
  // A context that can still be annotated has a response that has not started: the app's
  // response gate can hold it until the call's write-ahead record is durable.
  const permit = await limits.admit(principal, model, estimate, ctx.log, {
    requestId: ctx.requestId,
    deferrable: ctx.annotate !== undefined,
    ...(fallbacks.length > 0 ? { fallbacks } : {}),
  })
  if (permit.notes.rateLimit || permit.notes.budgetWarning) ctx.annotate?.(permit.notes)
  return permit
}

/** Reports one finished call to the usage sink, priced from the catalog, and settles its permit. */
export function meterCall(
  sink: UsageSink,
  call: {
    model: CatalogModel
    tokens: TokenUsage
    principal: KeyPrincipal
    ctx: Pick<CallContext, 'requestId'> & Partial<Pick<CallContext, 'observe'>>
    at: number
    estimated?: boolean
    permit?: Permit
  },
): void {
  call.permit?.settle(call.tokens)
  const cost = costMicroUsd(call.model, call.tokens)
  call.ctx.observe?.usage(call.tokens, cost, call.estimated === true)
  sink.record({
    keyId: call.principal.keyId,
    owner: call.principal.owner,
    modelId: call.model.id,
    tokens: call.tokens,
    costMicroUsd: cost,
    at: call.at,
    requestId: call.ctx.requestId,
    ...(call.estimated ? { estimated: true } : {}),
    ...(call.permit?.reservation ? { reservation: call.permit.reservation } : {}),
    ...(call.permit?.call ? { call: call.permit.call } : {}),
  })
}
