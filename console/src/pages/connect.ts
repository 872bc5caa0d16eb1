/**
 * Connect: ready-to-paste settings for the tools people use, filled with this gateway's URL. The
 * key stays a placeholder (`PENNYWORTH_API_KEY`): secrets are shown once, on the Keys page.
 * The snippets follow README.md (§Pointing tools at it, §Connecting clients), where they are tested.
 */
import { gatewayUrl, type Settings } from '../session.js'
import { CopyButton, html } from '../ui.js'

export interface Snippet {
  id: string
  title: string
  where: string
  text: string
}

/** Every snippet for a gateway at `base` (no trailing slash, no /v1). */
export function snippets(base: string): Snippet[] {
  const v1 = `${base}/v1`
  const mcp = `${base}/v1/mcp`
  return [
    {
      id: 'claude-code',
      title: 'Claude Code',
      where: 'shell (no /v1: Claude Code adds /v1/messages)',
      text: `export ANTHROPIC_BASE_URL=${base}\nexport ANTHROPIC_API_KEY=$PENNYWORTH_API_KEY\nclaude`,
    },
    {
      id: 'codex',
      title: 'Codex CLI',
      where: '~/.codex/config.toml, then export PENNYWORTH_API_KEY=pw-…',
      text: [
        'model = "claude-sonnet-4-5"',
        'model_provider = "pennyworth"',
        'web_search = "disabled"',
        '',
        '[model_providers.pennyworth]',
        'name = "pennyworth"',
        `base_url = "${v1}"`,
        'env_key = "PENNYWORTH_API_KEY"',
        'wire_api = "responses"',
      ].join('\n'),
    },
    {
      id: 'cursor',
      title: 'Cursor',
      where: 'Settings → Models: OpenAI API key = your key, "Override OpenAI Base URL" =',
      text: v1,
    },
    {
      id: 'continue',
      title: 'Continue',
      where: '~/.continue/config.yaml',
      text: [
        'models:',
        '  - name: Claude Sonnet (pennyworth)',
        '    provider: openai',
        '    model: claude-sonnet-4-5',
        `    apiBase: ${v1}`,
        '    apiKey: ${{ secrets.PENNYWORTH_API_KEY }}',
      ].join('\n'),
    },
    {
      id: 'openai-js',
      title: 'openai SDK (JavaScript)',
      where: 'npm install openai',
      text: [
        "import OpenAI from 'openai'",
        `const client = new OpenAI({ baseURL: '${v1}', apiKey: process.env.PENNYWORTH_API_KEY })`,
        'const answer = await client.chat.completions.create({',
        "  model: 'claude-sonnet-4-5',",
        "  messages: [{ role: 'user', content: 'Hello' }],",
        '})',
        'console.log(answer.choices[0].message.content)',
      ].join('\n'),
    },
    {
      id: 'openai-py',
      title: 'openai SDK (Python)',
      where: 'pip install openai',
      text: [
        'import os',
        'from openai import OpenAI',
        `client = OpenAI(base_url="${v1}", api_key=os.environ["PENNYWORTH_API_KEY"])`,
        'answer = client.chat.completions.create(model="claude-sonnet-4-5",',
        '    messages=[{"role": "user", "content": "Hello"}])',
        'print(answer.choices[0].message.content)',
      ].join('\n'),
    },
    {
      id: 'mcp-vscode',
      title: 'MCP: VS Code',
      where: '.vscode/mcp.json (VS Code asks for the key once)',
      text: JSON.stringify(
        {
          inputs: [{ type: 'promptString', id: 'pennyworth-key', description: 'pennyworth API key', password: true }],
          servers: {
            pennyworth: { type: 'http', url: mcp, headers: { Authorization: 'Bearer ${input:pennyworth-key}' } },
          },
        },
        null,
        2,
      ),
    },
    {
      id: 'mcp-cursor',
      title: 'MCP: Cursor',
      where: '~/.cursor/mcp.json',
      text: JSON.stringify(
        { mcpServers: { pennyworth: { url: mcp, headers: { Authorization: 'Bearer ${env:PENNYWORTH_API_KEY}' } } } },
        null,
        2,
      ),
    },
    {
      id: 'mcp-claude-desktop',
      title: 'MCP: Claude Desktop',
      where: 'claude_desktop_config.json (through mcp-remote; add "--allow-http" for an http:// URL)',
      text: JSON.stringify(
        {
          mcpServers: {
            pennyworth: {
              command: 'npx',
              args: ['-y', 'mcp-remote', mcp, '--header', 'Authorization:${PENNYWORTH_AUTH}'],
              env: { PENNYWORTH_AUTH: 'Bearer pw-…' },
            },
          },
        },
        null,
        2,
      ),
    },
  ]
}

export function ConnectPage(props: { settings: Settings }) {
  const base = gatewayUrl(props.settings)
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Connect a tool</h1>
    <p>
      Gateway: <code id="gateway-url">${base}</code>. Create a key on the Keys page and put it in
      <code>PENNYWORTH_API_KEY</code> (or where the snippet says).
    </p>
    ${snippets(base).map(
      (s) => html`<article class="snippet" id=${`snippet-${s.id}`} key=${s.id}>
        <h2>${s.title}</h2>
        <p class="muted">${s.where}</p>
        <pre tabindex="0"><code>${s.text}</code></pre>
        <${CopyButton} text=${s.text} label=${`Copy ${s.title} settings`} />
      </article>`,
    )}
  </section>`
}
