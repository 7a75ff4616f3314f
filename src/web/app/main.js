import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, setCsrf } from './api.js'
import { RepoPage } from './repo.js'
import { TokensPage } from './tokens.js'
import { html, link, loadState, useLoad, when } from './ui.js'

/** The route: the hash's parts, decoded (#/r/ada/models/tree/main/src → ['r','ada',…]). */
function currentRoute() {
  // A query after `?` (#/r/o/n/commits/main?path=x) is the page's own; the route is before it.
  const hash = location.hash.replace(/^#\/?/, '').split('?')[0]
  return hash === '' ? [] : hash.split('/').map((p) => decodeURIComponent(p))
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute())
  useEffect(() => {
    const on = () => setRoute(currentRoute())
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}

function SignIn({ onSignedIn }) {
  const [mode, setMode] = useState('password')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (event) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const body = { user: form.get('user') }
    if (mode === 'password') body.password = form.get('password')
    else body.token = form.get('token')
    setBusy(true)
    setError('')
    try {
      const session = await api('session', { method: 'POST', body })
      setCsrf(session.csrf)
      onSignedIn(session)
      location.hash = '#/'
    } catch (err) {
      setError(err.message)
    } finally {
      setBusy(false)
    }
  }
  return html`<section class="signin" aria-labelledby="signin-title">
    <h1 id="signin-title">Sign in to the hub</h1>
    <div class="tabs" role="group" aria-label="Sign in with">
      <button type="button" aria-pressed=${mode === 'password'} onClick=${() => setMode('password')}>Password</button>
      <button type="button" aria-pressed=${mode === 'token'} onClick=${() => setMode('token')}>Token</button>
    </div>
    <form onSubmit=${submit}>
      <label>User <input name="user" autocomplete="username" required autofocus /></label>
      ${
        mode === 'password'
          ? html`<label>Password <input name="password" type="password" autocomplete="current-password" required /></label>`
          : html`<label>Token <input name="token" type="password" autocomplete="off" required /></label>`
      }
      <button type="submit" class="primary" disabled=${busy}>Sign in</button>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </form>
  </section>`
}

function RepoList({ session }) {
  const state = useLoad(() => api('repos'), [session?.user])
  const shown = loadState(state, 'repositories')
  if (shown) return shown
  const repos = state.data.repos
  return html`<section aria-labelledby="repos-title">
    <h1 id="repos-title">Repositories</h1>
    ${
      repos.length === 0
        ? html`<p>No repositories you may read${session?.user ? '' : ' — sign in to see private ones'}.</p>`
        : html`<ul class="cards">
            ${repos.map(
              (r) => html`<li>
                <a href=${link('r', r.owner, r.name)}><strong>${r.owner}/${r.name}</strong></a>
                <span class="badge">${r.private ? 'private' : 'public'}</span>
                <span class="muted">${r.role} · created ${when(r.created)}</span>
              </li>`,
            )}
          </ul>`
    }
  </section>`
}

function Header({ session, onSignOut }) {
  return html`<header class="top">
    <a class="brand" href="#/">mlvc hub</a>
    <nav aria-label="Site">
      <a href="#/">Repositories</a>
      ${session?.user ? html`<a href="#/tokens">Tokens</a>` : null}
    </nav>
    <div class="who">
      ${
        session?.user
          ? html`<span>Signed in as <strong>${session.user}</strong></span>
              <button type="button" onClick=${onSignOut}>Sign out</button>`
          : html`<a class="button" href="#/signin">Sign in</a>`
      }
    </div>
  </header>`
}

function App() {
  const route = useRoute()
  const [session, setSession] = useState(undefined)
  useEffect(() => {
    api('session').then(
      (s) => {
        setCsrf(s.csrf)
        setSession(s)
      },
      () => setSession({ user: null }),
    )
  }, [])
  const signOut = async () => {
    await api('session', { method: 'DELETE' })
    setCsrf('')
    setSession({ user: null })
    location.hash = '#/signin'
  }
  if (session === undefined) return html`<p class="loading">Loading…</p>`
  let page
  const [first, ...rest] = route
  if (first === 'signin') page = html`<${SignIn} onSignedIn=${setSession} />`
  else if (first === 'tokens') page = html`<${TokensPage} session=${session} />`
  else if (first === 'r' && rest.length >= 2)
    page = html`<${RepoPage} route=${rest} session=${session} />`
  else page = html`<${RepoList} session=${session} />`
  return html`<${Header} session=${session} onSignOut=${signOut} />
    <main id="main" tabindex="-1">${page}</main>`
}

render(html`<${App} />`, document.getElementById('app'))
