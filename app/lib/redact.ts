/**
 * Key-shaped strings out of anything that may be logged or echoed: a pennyworth key
 * (`pw-<keyId>-<secret>`, services/keys.ts) keeps its public id and loses its secret. Clients
 * put keys where they do not belong (`/v1/models/<key>`, `?key=<key>`, a model name), and a
 * request URL is logged with every request.
 */
const KEY = /\b(pw-[A-Za-z0-9]{12})-[A-Za-z0-9_-]{16,}/g

/** `s` with every key's secret replaced by `[redacted]`. */
export function redactKeys(s: string): string {
  return s.includes('pw-') ? s.replace(KEY, '$1-[redacted]') : s
}
