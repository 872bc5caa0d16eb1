/**
 * MCP test helpers: the official SDK client over real HTTP against a running gateway, and a raw
 * HTTP client for what the SDK client never sends (foreign Host headers, bad bodies…).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import http from 'node:http'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** An SDK client connected (initialize done) to `<url>/v1/mcp` with these headers. */
export async function connect(t: Teardown, url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'pennyworth-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/v1/mcp`), { requestInit: { headers } })
  await client.connect(transport)
  t.teardown(() => client.close())
  return client
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  json(): any
  /** The JSON-RPC messages of an SSE body (`data:` lines), in order. */
  events(): any[]
}

/** One HTTP request with exactly these headers (Host included), body sent as given. */
export function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | object,
): Promise<RawResponse> {
  const u = new URL(url)
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          text,
          json: () => JSON.parse(text),
          events: () =>
            text
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => JSON.parse(l.slice(6))),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** Headers of a well-behaved MCP POST. */
export const mcpHeaders = (url: string, extra: Record<string, string> = {}): Record<string, string> => ({
  host: new URL(url).host,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra,
})

export const initializeRequest = (protocolVersion = '2025-11-25', id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
})
