/** https://platform.openai.com/docs/api-reference/models/object */
import type { Static } from 'typebox'
import { Type } from '../lib/typebox.js'

export const ModelObject = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
})
export type ModelObject = Static<typeof ModelObject>
