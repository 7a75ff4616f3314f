import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import {
  addAccount,
  addRepo,
  createToken,
  loadHubConfig,
  type RunningHub,
  startHub,
} from './index.ts'

// A hub in this process (no git pushes: sessions and the JSON API only).
let running: RunningHub
let url: string
let adaToken: string
let bobToken: string
const PASSWORD = 'a long enough password'

beforeAll(async () => {
  const config = await loadHubConfig({
    data: join(tempDir('mlvc-session'), 'hub'),
    listen: '127.0.0.1:0',
  })
  running = await startHub(config, { hookCommand: ['true'] })
  url = running.url
  const { hub } = running
  const ada = await addAccount(hub.db, { name: 'ada', kind: 'user' })
  const bob = await addAccount(hub.db, { name: 'bob', kind: 'user' })
  await addRepo(hub, { owner: ada, name: 'secret', private: true })
  adaToken = (await createToken(hub.db, { user: ada, name: 't', scope: 'admin' })).secret
  bobToken = (await createToken(hub.db, { user: bob, name: 't', scope: 'read' })).secret
  const set = await call('PUT', '/api/v1/user/password', {
    headers: { authorization: `Bearer ${adaToken}` },
    body: { password: PASSWORD },
  })
  expect(set.status).toBe(200)
})
afterAll(() => running?.close())

async function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: unknown } = {},
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined }
}

const signIn2 = () => signIn({ user: 'ada', password: PASSWORD })

async function signIn(body: Record<string, string>) {
  const res = await call('POST', '/api/v1/session', { body })
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  return { ...res, cookie, csrf: res.json?.csrf as string }
}

describe('web sessions', () => {
  test('a password sign-in sets an HttpOnly, SameSite=Strict cookie that authenticates API calls', async () => {
    const session = await signIn({ user: 'ada', password: PASSWORD })
    expect(session.status).toBe(201)
    const header = session.headers.get('set-cookie') ?? ''
    expect(header).toMatch(
      /^mlvc_session=mlvc_[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    )
    const me = await call('GET', '/api/v1/user', { headers: { cookie: session.cookie } })
    expect(me.status).toBe(200)
    expect(me.json.name).toBe('ada')
    expect(
      (await call('GET', '/api/v1/session', { headers: { cookie: session.cookie } })).json,
    ).toMatchObject({
      user: 'ada',
      csrf: session.csrf,
    })
  })

  test('a state-changing request with the cookie but without the CSRF token is refused (403) and changes nothing', async () => {
    const session = await signIn({ user: 'ada', password: PASSWORD })
    const forged = await call('POST', '/api/v1/tokens', {
      headers: { cookie: session.cookie },
      body: { name: 'forged' },
    })
    expect(forged.status).toBe(403)
    expect(forged.json.error.message).toContain('CSRF')
    const wrong = await call('POST', '/api/v1/tokens', {
      headers: { cookie: session.cookie, 'x-csrf-token': `${session.csrf}x` },
      body: { name: 'forged' },
    })
    expect(wrong.status).toBe(403)
    const list = await call('GET', '/api/v1/tokens', { headers: { cookie: session.cookie } })
    expect(list.json.tokens.map((t: { name: string }) => t.name)).not.toContain('forged')
    const made = await call('POST', '/api/v1/tokens', {
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      body: { name: 'made' },
    })
    expect(made.status).toBe(201)
    // Signing out is a state change too.
    const out = await call('DELETE', '/api/v1/session', { headers: { cookie: session.cookie } })
    expect(out.status).toBe(403)
  })

  test('another site’s page can neither sign a visitor in nor act with the cookie, even knowing the CSRF token', async () => {
    const elsewhere = { origin: 'http://evil.example' }
    const signIn = await call('POST', '/api/v1/session', {
      headers: elsewhere,
      body: { user: 'ada', password: PASSWORD },
    })
    expect(signIn.status).toBe(403)
    expect(signIn.headers.get('set-cookie')).toBeNull()
    const session = await signIn2()
    const forged = await call('POST', '/api/v1/tokens', {
      headers: { ...elsewhere, cookie: session.cookie, 'x-csrf-token': session.csrf },
      body: { name: 'forged' },
    })
    expect(forged.status).toBe(403)
    expect(forged.json.error.message).toBe('a page of http://evil.example may not do this')
    const own = await call('POST', '/api/v1/tokens', {
      headers: { origin: url, cookie: session.cookie, 'x-csrf-token': session.csrf },
      body: { name: 'own' },
    })
    expect(own.status).toBe(201)
  })

  test('behind a TLS proxy (X-Forwarded-Proto: https) the cookie is Secure', async () => {
    const res = await call('POST', '/api/v1/session', {
      headers: { 'x-forwarded-proto': 'https' },
      body: { user: 'ada', password: PASSWORD },
    })
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/)
    expect((await signIn2()).headers.get('set-cookie')).not.toContain('Secure')
  })

  test('signing out revokes the session: the old cookie no longer authenticates', async () => {
    const session = await signIn({ user: 'ada', password: PASSWORD })
    const out = await call('DELETE', '/api/v1/session', {
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
    })
    expect(out.status).toBe(200)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    expect(
      (await call('GET', '/api/v1/user', { headers: { cookie: session.cookie } })).status,
    ).toBe(401)
    expect(
      (await call('GET', '/api/v1/session', { headers: { cookie: session.cookie } })).json,
    ).toEqual({
      user: null,
    })
  })

  test('wrong passwords, unknown users and bad tokens are one 401; a token sign-in keeps the token’s scope', async () => {
    for (const body of [
      { user: 'ada', password: 'wrong wrong wrong' },
      { user: 'nobody', password: PASSWORD },
      { user: 'bob', password: PASSWORD },
      { user: 'ada', token: 'mlvc_nope' },
      { user: 'ada', token: bobToken },
    ]) {
      const res = await signIn(body)
      expect(res.status, JSON.stringify(body)).toBe(401)
      expect(res.json.error.message).toBe('sign-in refused: wrong user, password or token')
      // A page's request gets no Basic challenge (no browser login dialog), others do.
      expect(res.headers.get('www-authenticate')).toContain('Basic')
    }
    const quiet = await call('POST', '/api/v1/session', {
      headers: { 'x-requested-with': 'mlvc-web' },
      body: { user: 'ada', password: 'wrong wrong wrong' },
    })
    expect(quiet.headers.get('www-authenticate')).toBeNull()
    const bob = await signIn({ user: 'bob', token: bobToken })
    expect(bob.json.scope).toBe('read')
    const made = await call('POST', '/api/v1/tokens', {
      headers: { cookie: bob.cookie, 'x-csrf-token': bob.csrf },
      body: { name: 'stronger', scope: 'write' },
    })
    expect(made.status).toBe(403)
  })

  test('a private repository is invisible to a signed-in user without access: 404, as for one that does not exist', async () => {
    const bob = await signIn({ user: 'bob', token: bobToken })
    for (const path of [
      '/api/v1/repos/ada/secret',
      '/api/v1/repos/ada/secret/branches',
      '/api/v1/repos/ada/secret/tree',
    ]) {
      const res = await call('GET', path, { headers: { cookie: bob.cookie } })
      expect(res.status, path).toBe(404)
      expect(res.json.error.message).toBe('no repository ada/secret on this hub')
    }
    const repos = await call('GET', '/api/v1/repos', { headers: { cookie: bob.cookie } })
    expect(repos.json.repos).toEqual([])
  })

  test('a password shorter than 10 characters is refused; changing one needs the current one', async () => {
    const short = await call('PUT', '/api/v1/user/password', {
      headers: { authorization: `Bearer ${bobToken}` },
      body: { password: 'short' },
    })
    expect(short.status).toBe(400)
    const change = await call('PUT', '/api/v1/user/password', {
      headers: { authorization: `Bearer ${adaToken}` },
      body: { password: 'another long password' },
    })
    expect(change.status).toBe(401)
    const ok = await call('PUT', '/api/v1/user/password', {
      headers: { authorization: `Bearer ${adaToken}` },
      body: { password: 'another long password', current: PASSWORD },
    })
    expect(ok.status).toBe(200)
    expect((await signIn({ user: 'ada', password: 'another long password' })).status).toBe(201)
    expect((await signIn({ user: 'ada', password: PASSWORD })).status).toBe(401)
  })
})
