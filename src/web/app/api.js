// The hub's JSON API, as the pages call it: same origin, the session cookie, and the session's
// CSRF secret on every request that changes something.
let csrf = ''

export function setCsrf(value) {
  csrf = value ?? ''
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.error?.code ?? 'HTTP'
    this.hint = body?.error?.hint ?? ''
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  // X-Requested-With: the hub then answers 401 without a Basic challenge (no browser login dialog).
  const headers = { accept: 'application/json', 'x-requested-with': 'mlvc-web' }
  if (method !== 'GET') headers['x-csrf-token'] = csrf
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`/api/v1/${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = await res.json().catch(() => ({}))
  if (!res.ok) throw new ApiError(res.status, json)
  return json
}

/** /api/v1/repos/OWNER/NAME/VIEW?query */
export function repoApi(repo, view, query = {}) {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v)
  const qs = params.toString()
  return api(`repos/${repo.owner}/${repo.name}/${view}${qs ? `?${qs}` : ''}`)
}

export function rawUrl(repo, rev, path) {
  const params = new URLSearchParams({ rev, path })
  return `/api/v1/repos/${repo.owner}/${repo.name}/raw?${params}`
}

/**
 * Calls a deployment (POST /v1/OWNER/REPO/BRANCH/NAME) with the session and its CSRF secret: the
 * handler's answer as text, with its status and the version that answered.
 */
export async function callDeployment(url, text) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-csrf-token': csrf,
      'x-requested-with': 'mlvc-web',
    },
    credentials: 'same-origin',
    body: text,
  })
  return { status: res.status, version: res.headers.get('x-mlvc-version'), body: await res.text() }
}
