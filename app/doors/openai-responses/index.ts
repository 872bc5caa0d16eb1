/**
 * The OpenAI Responses door's codec, loaded on the first Responses request (dynamic import from
 * routes/openai/responses.ts): a Lambda serving other doors never reads it at start.
 */
export { checkResponsesRequest, decodeResponsesRequest, inputItems, toolNamespaces } from './decode.js'
export { encodeResponse, encodeResponseEvents, responseId, responseOfItem } from './encode.js'
export { responsesStreamError } from './errors.js'
export { withItemIds } from './items.js'
