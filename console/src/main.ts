/**
 * The console's shell: sign-in, navigation (hash routes, so pages change without a reload that
 * would drop the in-memory tokens), and the pages. Everything goes through the admin API.
 */
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { AuditPage } from './pages/audit.js'
import { ConnectPage } from './pages/connect.js'
import { KeysPage } from './pages/keys.js'
import { UsagePage } from './pages/usage.js'
import { UsersPage } from './pages/users.js'
import { api, completeSignIn, readSettings, signOut, startCognitoSignIn, type Me, type Settings } from './session.js'
import { ErrorLine, html } from './ui.js'

const PAGES = [
  { path: 'keys', label: 'Keys', admin: false },
  { path: 'usage', label: 'Usage', admin: false },
  { path: 'users', label: 'Users', admin: true },
  { path: 'audit', label: 'Audit', admin: true },
  { path: 'connect', label: 'Connect', admin: false },
] as const

const route = () => /^#\/([a-z]+)/.exec(location.hash)?.[1] ?? 'keys'

function SignIn(props: { settings: Settings; message: string; error: unknown }) {
  return html`<main class="signin" id="main">
    <h1>pennyworth console</h1>
    ${props.message ? html`<p role="status">${props.message}</p>` : null}
    <${ErrorLine} error=${props.error} />
    ${
      props.settings.signIn === 'cognito'
        ? html`<button type="button" class="primary" id="sign-in" onClick=${() => startCognitoSignIn(props.settings)}>
          Sign in
        </button>`
        : props.settings.signIn === 'local'
          ? html`<p>Open the sign-in link that <code>npm start</code> printed (<code>Console: …#login=…</code>).
            Each link works once, for 10 minutes; a used one makes the terminal print a new one.</p>`
          : html`<p>Sign-in is not configured on this gateway (no Cognito console client).</p>`
    }
  </main>`
}

function App(props: { settings: Settings }) {
  const [me, setMe] = useState<Me | null>(null)
  const [state, setState] = useState<{ message: string; error: unknown; ready: boolean }>({
    message: '',
    error: null,
    ready: false,
  })
  const [page, setPage] = useState(route())

  useEffect(() => {
    // A sign-in link pasted into this tab changes only the fragment: start over with it.
    const onHash = () => (location.hash.startsWith('#login=') ? location.reload() : setPage(route()))
    addEventListener('hashchange', onHash)
    const signedOut = (message: string) => {
      setMe(null)
      setState({ message, error: null, ready: true })
    }
    completeSignIn(props.settings, signedOut)
      .then(async (ok) => {
        if (ok) setMe(await api<Me>('GET', '/v1/admin/me'))
        setPage(route())
        setState({ message: '', error: null, ready: true })
      })
      .catch((error: unknown) => setState({ message: '', error, ready: true }))
    return () => removeEventListener('hashchange', onHash)
  }, [])

  // The page heading takes focus on navigation, so keyboard and screen-reader users land on it.
  useEffect(() => {
    document.getElementById('page-title')?.focus()
    document.title = `${PAGES.find((p) => p.path === page)?.label ?? 'Keys'} · pennyworth console`
  }, [page, me])

  if (!state.ready) return html`<p class="loading" aria-busy="true">Signing in…</p>`
  if (!me) return html`<${SignIn} settings=${props.settings} message=${state.message} error=${state.error} />`
  const pages = PAGES.filter((p) => me.admin || !p.admin)
  const current = pages.find((p) => p.path === page) ?? pages[0]!
  const body =
    current.path === 'keys'
      ? html`<${KeysPage} me=${me} />`
      : current.path === 'usage'
        ? html`<${UsagePage} me=${me} />`
        : current.path === 'users'
          ? html`<${UsersPage} me=${me} />`
          : current.path === 'audit'
            ? html`<${AuditPage} me=${me} />`
            : html`<${ConnectPage} settings=${props.settings} />`
  return html`<a class="skip" href="#main" onClick=${(e: Event) => {
    e.preventDefault()
    document.getElementById('main')?.focus()
  }}>Skip to content</a>
    <header class="top">
      <span class="brand">pennyworth</span>
      <nav aria-label="Console">
        <ul>
          ${pages.map(
            (p) => html`<li>
              <a href=${`#/${p.path}`} aria-current=${p.path === current.path ? 'page' : undefined}>${p.label}</a>
            </li>`,
          )}
        </ul>
      </nav>
      <span class="who">
        <span id="whoami">${me.username}${me.admin ? ' (admin)' : ''}</span>
        <button type="button" id="sign-out" onClick=${() => signOut('Signed out.', props.settings)}>Sign out</button>
      </span>
    </header>
    <main id="main" tabindex="-1">${body}</main>`
}

render(html`<${App} settings=${readSettings()} />`, document.getElementById('app')!)
