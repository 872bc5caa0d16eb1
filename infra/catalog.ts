/**
 * Derives the Bedrock IAM resources the Lambda may invoke from the model catalog file
 * (app/catalog/default.json). infra reads the JSON file; it never imports app code.
 *
 * Cross-region inference profiles (`us.…`, `eu.…`, `global.…` …) need two grants
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html):
 * the profile in the calling region, and the foundation model in every region the profile may
 * route to. The destination regions are AWS's to change, so the foundation-model ARN carries a
 * region wildcard (`arn:aws:bedrock:*::foundation-model/<id>`) — it still names one model and the
 * actions stay `bedrock:InvokeModel` / `bedrock:InvokeModelWithResponseStream`. `*` also matches
 * the empty region that `global.` profiles use.
 */
import { readFileSync } from 'node:fs'

/** The fields of a catalog entry that infra needs (format: app/schemas/catalog.ts). */
export interface CatalogEntry {
  id: string
  provider: string
  upstreamId: string
  kind?: string
}

/** Geographic prefixes of Bedrock cross-region (system-defined) inference profile ids. */
export const INFERENCE_PROFILE_PREFIXES = ['us', 'eu', 'apac', 'global', 'jp', 'au', 'ca', 'us-gov'] as const

/** Reads the catalog JSON file and checks the fields infra relies on. */
export function readCatalog(path: string): CatalogEntry[] {
  const data = JSON.parse(readFileSync(path, 'utf8')) as { models?: unknown }
  if (!Array.isArray(data.models) || data.models.length === 0) {
    throw new Error(`${path}: expected a non-empty "models" array`)
  }
  return data.models.map((m: Record<string, unknown>, i: number) => {
    for (const field of ['id', 'provider', 'upstreamId'] as const) {
      if (typeof m[field] !== 'string' || m[field] === '')
        throw new Error(`${path}: models[${i}].${field} must be a non-empty string`)
    }
    return {
      id: m.id as string,
      provider: m.provider as string,
      upstreamId: m.upstreamId as string,
      kind: m.kind as string | undefined,
    }
  })
}

/**
 * The Bedrock entries to serve: all of them when `allowed` is empty, else exactly the allowed
 * ids. An allowed id that is not in the catalog is a configuration error (thrown), so a typo
 * cannot silently drop a model; allowed non-Bedrock entries (mock) simply need no IAM.
 */
export function selectBedrockModels(catalog: readonly CatalogEntry[], allowed: readonly string[]): CatalogEntry[] {
  const known = new Set(catalog.map((m) => m.id))
  const unknown = allowed.filter((id) => !known.has(id))
  if (unknown.length > 0) throw new Error(`allowedModels: not in the catalog: ${unknown.join(', ')}`)
  const wanted = new Set(allowed)
  return catalog.filter((m) => m.provider === 'bedrock' && (wanted.size === 0 || wanted.has(m.id)))
}

/** Splits `us.anthropic.claude-…` into the profile prefix and the foundation-model id. */
export function parseUpstreamId(upstreamId: string): { profilePrefix?: string; modelId: string } {
  const dot = upstreamId.indexOf('.')
  const head = dot > 0 ? upstreamId.slice(0, dot) : ''
  if ((INFERENCE_PROFILE_PREFIXES as readonly string[]).includes(head)) {
    return { profilePrefix: head, modelId: upstreamId.slice(dot + 1) }
  }
  return { modelId: upstreamId }
}

export interface ArnContext {
  partition: string
  region: string
  accountId: string
}

/**
 * Bedrock resource ARNs for `bedrock:InvokeModel*`, sorted and de-duplicated.
 * - `<geo>.<model>` → `arn:<p>:bedrock:<region>:<account>:inference-profile/<geo>.<model>` and
 *   `arn:<p>:bedrock:*::foundation-model/<model>`;
 * - `<model>` → `arn:<p>:bedrock:<region>::foundation-model/<model>`;
 * - an upstream id that already is an ARN (application inference profile, provisioned model) is
 *   used as it is.
 */
export function bedrockResourceArns(models: readonly CatalogEntry[], ctx: ArnContext): string[] {
  const arns = new Set<string>()
  for (const m of models) {
    if (m.provider !== 'bedrock') continue
    if (m.upstreamId.startsWith('arn:')) {
      arns.add(m.upstreamId)
      continue
    }
    const { profilePrefix, modelId } = parseUpstreamId(m.upstreamId)
    if (profilePrefix) {
      arns.add(`arn:${ctx.partition}:bedrock:${ctx.region}:${ctx.accountId}:inference-profile/${m.upstreamId}`)
      arns.add(`arn:${ctx.partition}:bedrock:*::foundation-model/${modelId}`)
    } else {
      arns.add(`arn:${ctx.partition}:bedrock:${ctx.region}::foundation-model/${modelId}`)
    }
  }
  return [...arns].sort()
}
