/**
 * The facade's HTML: the consent page and the error page. No script at all; one stylesheet
 * allowed by its hash; a strict Content-Security-Policy (no framing, forms only to ourselves and
 * to the redirect target a consent form's answer is sent on to).
 */
import { createHash } from 'node:crypto'

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.3rem}code{background:#f3f3f3;padding:0 .25rem;word-break:break-all}' +
  '.warn{background:#fff6db;border:1px solid #e8c96a;padding:.5rem .75rem}' +
  'button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.75rem}'
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64')

/** HTML-escapes text for element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

/** The CSP source a form answer may be redirected to: an http(s) origin, or a private-use scheme. */
function formTarget(redirectUri: string): string {
  const u = new URL(redirectUri)
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol
}

/** Headers of every facade page. */
export function pageHeaders(redirectUri?: string): Record<string, string> {
  const formAction = redirectUri ? `'self' ${formTarget(redirectUri)}` : "'self'"
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action ${formAction}; ` +
      "frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  }
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${escapeHtml(title)} · pennyworth</title><style>${STYLE}</style></head>` +
  `<body><main>${body}</main></body></html>`

export interface ConsentView {
  clientName: string
  redirectUri: string
  username: string
  requestId: string
  csrf: string
  /** Where the answer is posted (`/oauth/authorize`). */
  action: string
}

/**
 * Asks the person to allow an MCP client. Shows where the answer goes (the redirect URI's host),
 * as the MCP spec requires, and warns for loopback redirects: any program on the computer can
 * listen there and claim any name.
 */
export function consentPage(v: ConsentView): string {
  const target = new URL(v.redirectUri)
  const where = target.protocol === 'http:' || target.protocol === 'https:' ? target.host : target.protocol
  const loopback = target.protocol === 'http:'
  return page(
    'Allow access',
    `<h1>Allow <strong>${escapeHtml(v.clientName)}</strong> to use pennyworth?</h1>` +
      `<p>Signed in as <strong>${escapeHtml(v.username)}</strong>. The client gets a credential of its own, ` +
      `listed with your API keys, for the MCP endpoint only; its model calls count against it.</p>` +
      `<p>The answer goes to <code>${escapeHtml(where)}</code>.</p>` +
      (loopback
        ? '<p class="warn">That is a program on this computer. Allow only if you just asked an MCP client ' +
          'on this computer to connect: the name above is what the program says about itself.</p>'
        : '') +
      `<form method="post" action="${escapeHtml(v.action)}">` +
      `<input type="hidden" name="request_id" value="${escapeHtml(v.requestId)}">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">` +
      `<button type="submit" name="decision" value="allow" autofocus>Allow</button>` +
      `<button type="submit" name="decision" value="deny">Deny</button></form>`,
  )
}

export function errorPage(message: string): string {
  return page('Cannot connect', `<h1>The MCP client cannot connect</h1><p>${escapeHtml(message)}</p>`)
}
