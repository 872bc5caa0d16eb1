/**
 * Input items as stored and listed (GET /v1/responses/{id}/input_items): every item gets an id
 * (the client's, else one naming this response: encode.ts `itemId`), and a message's string
 * content becomes one text part, as OpenAI lists it.
 * https://platform.openai.com/docs/api-reference/responses/input-items
 */
import type { InputItem } from './decode.js'
import { itemId } from './encode.js'

const KIND = {
  message: 'message',
  function_call: 'function_call',
  function_call_output: 'function_call_output',
  reasoning: 'reasoning',
} as const

export function withItemIds(items: InputItem[], responseId: string): InputItem[] {
  return items.map((item, n) => {
    const type = item.type ?? (item.role !== undefined ? 'message' : 'message')
    const out: InputItem = { ...item, type }
    if (typeof out.id !== 'string' || out.id === '')
      out.id = itemId(responseId, KIND[type as keyof typeof KIND] ?? 'input', `i${n}`)
    if (type === 'message' && typeof item.content === 'string') {
      out.content = [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
    }
    return out
  })
}
