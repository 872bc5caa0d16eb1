/**
 * The model catalog at run time: which models this gateway serves, under which names, and
 * what they cost. Built once at start from the catalog file and the config's model filter.
 */
import defaultCatalogJson from '../catalog/default.json' with { type: 'json' }
import type { Catalog, CatalogModel } from '../schemas/catalog.js'
import type { TokenUsage } from '../schemas/chat.js'

/** Every public name and alias must point at one model; fallbacks name other models of the same kind. */
export function checkNames(doc: Catalog, source: string): Catalog {
  const seen = new Map<string, string>()
  for (const m of doc.models) {
    for (const name of [m.id, ...(m.aliases ?? [])]) {
      const other = seen.get(name)
      if (other) throw new Error(`Invalid model catalog ${source}: name "${name}" is used by both ${other} and ${m.id}`)
      seen.set(name, m.id)
    }
  }
  const byId = new Map(doc.models.map((m) => [m.id, m]))
  for (const m of doc.models) {
    const problem = fallbackProblem(m, m.fallbacks ?? [], byId)
    if (problem) throw new Error(`Invalid model catalog ${source}: ${m.id}.fallbacks ${problem}`)
  }
  return doc
}

/** Why `fallbacks` cannot serve as `model`'s chain, or undefined when they can. */
function fallbackProblem(
  model: CatalogModel,
  fallbacks: string[],
  byId: Map<string, CatalogModel>,
): string | undefined {
  for (const id of fallbacks) {
    const f = byId.get(id)
    if (!f) return `names "${id}", which is not a catalog model id`
    if (f.id === model.id) return 'names the model itself'
    if (f.kind !== model.kind) return `names "${id}", ${f.kind === 'embedding' ? 'an embedding' : 'a chat'} model`
    if (model.kind === 'embedding') return 'are not supported for embedding models (vectors of two models do not mix)'
  }
  if (new Set(fallbacks).size !== fallbacks.length) return 'names a model twice'
  return undefined
}

/**
 * The bundled catalog (checked by tests, so not validated again at every cold start). A file
 * that PENNYWORTH_CATALOG names is read and validated by services/catalog-file.ts, which brings
 * ajv along: the Lambda loads it only when such a file is configured.
 */
export function loadCatalog(): Catalog {
  return checkNames(structuredClone(defaultCatalogJson) as Catalog, 'app/catalog/default.json')
}

/** Options deciding which catalog models are served. */
export interface RegistryOptions {
  /** Serve only these catalog ids (validated: an unknown id is a start-up error). */
  models?: string[]
  /** Serve `provider: "mock"` models (local mode); never in production unless configured. */
  mockModels: boolean
  /** Fallback chains per catalog id, replacing the catalog's (PENNYWORTH_MODEL_FALLBACKS). */
  fallbacks?: Record<string, string[]>
}

/** Served models by public name and alias. */
export class ModelRegistry {
  private readonly byName = new Map<string, CatalogModel>()
  private readonly served: CatalogModel[]
  private readonly chains = new Map<string, CatalogModel[]>()
  /** Unix seconds reported as `created` for every model (the catalog's price date). */
  readonly created: number

  constructor(
    readonly catalog: Catalog,
    options: RegistryOptions,
  ) {
    const ids = new Set(catalog.models.map((m) => m.id))
    for (const id of options.models ?? []) {
      if (!ids.has(id)) throw new Error(`PENNYWORTH_MODELS names "${id}", which is not in the model catalog`)
    }
    const wanted = options.models ? new Set(options.models) : undefined
    this.served = catalog.models.filter(
      (m) => (m.provider !== 'mock' || options.mockModels) && (!wanted || wanted.has(m.id)),
    )
    for (const m of this.served) {
      for (const name of [m.id, ...(m.aliases ?? [])]) this.byName.set(name, m)
    }
    this.created = Math.floor(Date.parse(catalog.pricesAsOf) / 1000)
    const byId = new Map(catalog.models.map((m) => [m.id, m]))
    for (const [id, chain] of Object.entries(options.fallbacks ?? {})) {
      const model = byId.get(id)
      if (!model) throw new Error(`PENNYWORTH_MODEL_FALLBACKS names "${id}", which is not in the model catalog`)
      const problem = fallbackProblem(model, chain, byId)
      if (problem) throw new Error(`PENNYWORTH_MODEL_FALLBACKS: ${id}'s fallbacks ${problem}`)
    }
    // Only served models can be fallbacks; the chain is resolved once, here.
    for (const m of this.served) {
      const ids = options.fallbacks?.[m.id] ?? m.fallbacks ?? []
      const chain = ids.map((id) => this.served.find((s) => s.id === id)).filter((f) => f !== undefined)
      if (chain.length > 0) this.chains.set(m.id, chain)
    }
  }

  /** The served fallbacks of `model`, in order (empty when none are configured). */
  fallbacksOf(model: CatalogModel): readonly CatalogModel[] {
    return this.chains.get(model.id) ?? []
  }

  /** The served model with this id or alias. */
  resolve(name: string): CatalogModel | undefined {
    return this.byName.get(name)
  }

  list(): readonly CatalogModel[] {
    return this.served
  }
}

/**
 * Cost of a call in integer micro-USD. A price of P USD per 1M tokens is P micro-USD per
 * token, so the sum is exact up to one rounding per call.
 */
export function costMicroUsd(model: CatalogModel, tokens: TokenUsage): number {
  const p = model.pricing
  return Math.round(
    tokens.inputTokens * p.inputPerMTok +
      tokens.outputTokens * p.outputPerMTok +
      tokens.cacheReadTokens * (p.cacheReadPerMTok ?? p.inputPerMTok) +
      tokens.cacheWriteTokens * (p.cacheWritePerMTok ?? p.inputPerMTok),
  )
}
