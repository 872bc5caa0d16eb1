/**
 * `list_models`: the served models the caller's key may use — the same set as GET /v1/models,
 * with what an agent needs to pick one (kind, capabilities, limits, prices).
 */
import type { Static } from 'typebox'
import { Type } from '../../lib/typebox.js'
import { ModelCapabilities } from '../../schemas/catalog.js'
import type { ModelRegistry } from '../../services/catalog.js'
import { keyAllowsModel } from '../../services/keys.js'
import { jsonText, type ToolDefinition } from './types.js'

export const ListModelsArgs = Type.Object({
  kind: Type.Optional(
    Type.Union([Type.Literal('chat'), Type.Literal('embedding')], { description: 'Only models of this kind.' }),
  ),
})

const ListedModel = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('chat'), Type.Literal('embedding')]),
  owned_by: Type.String(),
  aliases: Type.Array(Type.String()),
  context_window: Type.Optional(Type.Integer()),
  max_output_tokens: Type.Optional(Type.Integer()),
  capabilities: ModelCapabilities,
  /** USD per 1M tokens. */
  pricing: Type.Object({
    input_per_mtok: Type.Number(),
    output_per_mtok: Type.Number(),
    cache_read_per_mtok: Type.Optional(Type.Number()),
    cache_write_per_mtok: Type.Optional(Type.Number()),
  }),
})

export const ListModelsOutput = Type.Object({
  models: Type.Array(ListedModel),
  prices_as_of: Type.String(),
})

export function listModelsTool(deps: { registry: ModelRegistry }): ToolDefinition<Static<typeof ListModelsArgs>> {
  return {
    name: 'list_models',
    title: 'List models',
    description:
      'Lists the models this API key may use: chat models (for the `chat` tool) and embedding models ' +
      '(for the `embed` tool), with capabilities, context window and on-demand prices in USD per 1M tokens.',
    inputSchema: ListModelsArgs,
    outputSchema: ListModelsOutput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    async run(args, env) {
      const { registry } = deps
      const models = registry
        .list()
        .filter((m) => keyAllowsModel(env.principal, m.id) && (!args.kind || m.kind === args.kind))
        .map((m) => ({
          id: m.id,
          kind: m.kind,
          owned_by: m.ownedBy,
          aliases: m.aliases ?? [],
          ...(m.contextWindow !== undefined ? { context_window: m.contextWindow } : {}),
          ...(m.maxOutputTokens !== undefined ? { max_output_tokens: m.maxOutputTokens } : {}),
          capabilities: m.capabilities,
          pricing: {
            input_per_mtok: m.pricing.inputPerMTok,
            output_per_mtok: m.pricing.outputPerMTok,
            ...(m.pricing.cacheReadPerMTok !== undefined ? { cache_read_per_mtok: m.pricing.cacheReadPerMTok } : {}),
            ...(m.pricing.cacheWritePerMTok !== undefined ? { cache_write_per_mtok: m.pricing.cacheWritePerMTok } : {}),
          },
        }))
      const structured = { models, prices_as_of: registry.catalog.pricesAsOf }
      return { text: jsonText(structured), structured }
    },
  }
}
