/**
 * `embed`: embeddings through the same EmbeddingService as POST /v1/embeddings (model
 * resolution, key scope, metering against the caller's key). Arguments reuse the embeddings
 * request schema's own properties; vectors come back as float arrays.
 */
import type { Static } from 'typebox'
import { Type } from '../../lib/typebox.js'
import { EmbeddingsRequest } from '../../schemas/embeddings.js'
import type { EmbeddingService } from '../../services/embeddings.js'
import { jsonText, type ToolDefinition } from './types.js'

const P = EmbeddingsRequest.properties

export const EmbedArgs = Type.Object({
  model: Type.String({
    minLength: 1,
    description: 'An embedding model id or alias from `list_models` (kind "embedding").',
  }),
  input: P.input,
  dimensions: P.dimensions,
  input_type: P.input_type,
})
export type EmbedArgs = Static<typeof EmbedArgs>

export const EmbedOutput = Type.Object({
  model: Type.String(),
  data: Type.Array(Type.Object({ index: Type.Integer(), embedding: Type.Array(Type.Number()) })),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
})

export function embedTool(deps: { embeddings: EmbeddingService }): ToolDefinition<EmbedArgs> {
  return {
    name: 'embed',
    title: 'Embed text',
    description:
      'Turns a text (or a list of texts) into embedding vectors with an embedding model (see `list_models`). ' +
      'Returns one vector per input, in input order. The call is billed to this API key.',
    inputSchema: EmbedArgs,
    outputSchema: EmbedOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, env) {
      const res = await deps.embeddings.embed({ ...args, encoding_format: 'float' }, env.principal, env.ctx)
      const structured = {
        model: res.model,
        data: res.data.map((d) => ({ index: d.index, embedding: d.embedding as number[] })),
        usage: res.usage,
      }
      await env.log('info', {
        event: 'metered',
        model: res.model,
        keyId: env.principal.keyId,
        prompt_tokens: res.usage.prompt_tokens,
      })
      return { text: jsonText(structured), structured }
    },
  }
}
