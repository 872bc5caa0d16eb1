/**
 * DNS-rebinding protection for /v1/mcp: the Host header must name this gateway, and an Origin
 * header, when a browser sends one, must be one of its origins.
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 *
 * Allowed: the host of PENNYWORTH_PUBLIC_URL (the only way in on AWS: the execute-api endpoint
 * is disabled) and the loopback names (localhost, 127.0.0.1, [::1]) on any port, which is how
 * local mode is reached. A page on evil.example.com that rebinds its name to 127.0.0.1 still
 * sends `Host: evil.example.com` and `Origin: http://evil.example.com`, so it is refused.
 */

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/** The hostname of a Host header value (`name`, `name:port`, `[v6]:port`), lower-cased. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

export interface OriginPolicy {
  /** Why the request is refused, or undefined when it may proceed. */
  check(host: string | undefined, origin: string | undefined): string | undefined
}

export function originPolicy(publicUrl: string | undefined): OriginPolicy {
  // Names, not ports: a port is no defence against rebinding, and proxies differ on `:443`.
  const publicName = publicUrl ? new URL(publicUrl).hostname.toLowerCase() : undefined
  const allowedName = (name: string) => LOOPBACK.has(name) || name === publicName
  const hostAllowed = (host: string) => allowedName(hostName(host))
  const originAllowed = (origin: string) => {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
    return allowedName(url.hostname.toLowerCase())
  }
  return {
    check(host, origin) {
      if (!host || !hostAllowed(host)) return `Host header '${host ?? ''}' is not allowed for the MCP endpoint.`
      if (origin !== undefined && !originAllowed(origin))
        return `Origin '${origin}' is not allowed for the MCP endpoint.`
      return undefined
    },
  }
}
