import { useState } from 'preact/hooks'
import { api } from './api.js'
import { html, loadState, useLoad, when } from './ui.js'

export function TokensPage({ session }) {
  const [version, setVersion] = useState(0)
  const [secret, setSecret] = useState(null)
  const [error, setError] = useState('')
  const state = useLoad(() => api('tokens'), [version, session?.user])
  if (!session?.user) return html`<p>Sign in to manage your tokens.</p>`
  const create = async (event) => {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    const body = { name: form.get('name'), scope: form.get('scope') }
    const repo = String(form.get('repo') ?? '').trim()
    if (repo) body.repo = repo
    const days = Number(form.get('days'))
    if (days > 0) body.expiresIn = Math.round(days * 86400)
    setError('')
    try {
      const token = await api('tokens', { method: 'POST', body })
      setSecret(token)
      setVersion((v) => v + 1)
      formElement.reset()
    } catch (err) {
      setError(err.message)
    }
  }
  const revoke = async (id) => {
    try {
      await api(`tokens/${id}`, { method: 'DELETE' })
      setVersion((v) => v + 1)
    } catch (err) {
      setError(err.message)
    }
  }
  const shown = loadState(state, 'tokens')
  return html`<section aria-labelledby="tokens-title">
    <h1 id="tokens-title">Tokens</h1>
    <form class="inline" onSubmit=${create} aria-label="Create a token">
      <label>Name <input name="name" required defaultValue="cli" /></label>
      <label>Scope
        <select name="scope">
          <option>read</option><option selected>write</option><option>admin</option>
        </select>
      </label>
      <label>Repository <input name="repo" placeholder="owner/name (all when empty)" /></label>
      <label>Expires in days <input name="days" type="number" min="0" step="1" placeholder="never" /></label>
      <button type="submit" class="primary">Create token</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      secret
        ? html`<div class="notice" role="status">
            <p>Token <strong>${secret.name}</strong> created. Copy it now; it is not shown again:</p>
            <code class="secret">${secret.secret}</code>
          </div>`
        : null
    }
    ${
      shown ??
      html`<div class="scroll"><table>
        <caption class="sr">Your tokens</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Repository</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          ${state.data.tokens.map(
            (t) => html`<tr>
              <td>${t.name}</td><td>${t.scope}</td><td>${t.repo ?? 'all'}</td>
              <td>${when(t.created)}</td><td>${when(t.expires)}</td>
              <td>${t.revoked ? `revoked ${when(t.revoked)}` : 'active'}</td>
              <td>${t.revoked ? null : html`<button type="button" onClick=${() => revoke(t.id)} aria-label=${`Revoke ${t.name}`}>Revoke</button>`}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>`
    }
  </section>`
}
