import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli, tempDir } from '../test-helpers/index.ts'
import { basic, type HubProcess, hubAdmin, startHubProcess } from './test-helpers/index.ts'

// One hub for the file: accounts, tokens, the JSON API and the HTTP limits.
const root = tempDir('mlvc-hub-api')
const data = `${root}/hub`
let hub: HubProcess
let adminToken: string
let adaToken: string
let bobToken: string

async function api(
  path: string,
  init: { method?: string; token?: string; user?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {}
  if (init.token)
    headers.authorization = init.user ? basic(init.user, init.token) : `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${hub.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    json: text ? JSON.parse(text) : undefined,
  }
}

beforeAll(async () => {
  await hubAdmin(data, 'user', 'add', 'root', '--admin')
  await hubAdmin(data, 'user', 'add', 'ada')
  await hubAdmin(data, 'user', 'add', 'bob')
  adminToken = await hubAdmin(data, 'token', 'create', 'root', '--scope', 'admin')
  adaToken = await hubAdmin(data, 'token', 'create', 'ada', '--scope', 'admin')
  bobToken = await hubAdmin(data, 'token', 'create', 'bob')
  await hubAdmin(data, 'repo', 'create', 'ada/secret')
  await hubAdmin(data, 'repo', 'create', 'ada/open', '--public')
  // Short enough for the stalled-client test to end quickly.
  writeFileSync(`${data}/hub.yaml`, 'limits:\n  headersTimeoutMs: 1000\n  idleTimeoutMs: 5000\n')
  hub = await startHubProcess(data)
})
afterAll(() => hub?.stop())

describe('tokens', () => {
  test('a token authenticates its user with Basic (user + token) and Bearer; a wrong user or token is 401', async () => {
    expect((await api('/api/v1/user', { token: adaToken, user: 'ada' })).json.name).toBe('ada')
    expect((await api('/api/v1/user', { token: adaToken })).json.name).toBe('ada')
    expect((await api('/api/v1/user', { token: adaToken, user: 'bob' })).status).toBe(401)
    const bad = await api('/api/v1/user', { token: `${adaToken}x` })
    expect(bad.status).toBe(401)
    expect(bad.json.error.code).toBe('PERMISSION')
    expect(bad.headers.get('www-authenticate')).toContain('Basic')
    expect((await api('/api/v1/user')).status).toBe(401)
  })

  test('tokens are listed without secrets, revoked (then refused), and expire', async () => {
    const made = await api('/api/v1/tokens', {
      method: 'POST',
      token: adaToken,
      body: { name: 'ci', scope: 'read' },
    })
    expect(made.status).toBe(201)
    const secret: string = made.json.secret
    expect(secret).toMatch(/^mlvc_/)
    const list = await api('/api/v1/tokens', { token: adaToken })
    expect(JSON.stringify(list.json)).not.toContain(secret)
    expect(list.json.tokens.map((t: { name: string }) => t.name)).toEqual(['cli', 'ci'])
    expect((await api('/api/v1/user', { token: secret })).status).toBe(200)
    expect(
      (await api(`/api/v1/tokens/${made.json.id}`, { method: 'DELETE', token: adaToken })).status,
    ).toBe(200)
    expect((await api('/api/v1/user', { token: secret })).status).toBe(401)

    const short = await hubAdmin(data, 'token', 'create', 'ada', '--expires', '1ms')
    await new Promise((done) => setTimeout(done, 5))
    expect((await api('/api/v1/user', { token: short })).status).toBe(401)
    const listed = await runCli(['--json', 'hub', 'token', 'list', 'ada', '--data', data])
    const cli = JSON.parse(listed.stdout)
    expect(cli.tokens.some((t: { expires: string | null }) => t.expires !== null)).toBe(true)
  })

  test('a token never mints a stronger one', async () => {
    const read = (
      await api('/api/v1/tokens', { method: 'POST', token: adaToken, body: { scope: 'read' } })
    ).json.secret
    const up = await api('/api/v1/tokens', {
      method: 'POST',
      token: read,
      body: { scope: 'write' },
    })
    expect(up.status).toBe(403)
  })

  test('the database holds hashes, never the secrets', async () => {
    const db =
      readFileSync(`${data}/hub.db`).toString('latin1') +
      readFileSync(`${data}/hub.db-wal`).toString('latin1')
    expect(db).not.toContain(adaToken)
    expect(db).not.toContain(adminToken)
  })
})

describe('repositories and roles', () => {
  test('a private repository is 401 to anonymous callers and 404 to users who may not read it, exactly as a missing one', async () => {
    const anonymous = await api('/api/v1/repos/ada/secret')
    const missingAnonymous = await api('/api/v1/repos/ada/nothing')
    expect([anonymous.status, missingAnonymous.status]).toEqual([401, 401])
    const bob = await api('/api/v1/repos/ada/secret', { token: bobToken })
    const missing = await api('/api/v1/repos/ada/nothing', { token: bobToken })
    expect([bob.status, missing.status]).toEqual([404, 404])
    expect(bob.json.error.message.replace('secret', 'X')).toBe(
      missing.json.error.message.replace('nothing', 'X'),
    )
    expect((await api('/api/v1/repos/ada/secret', { token: adaToken })).json.role).toBe('admin')
    expect((await api('/api/v1/repos/ada/open')).json.role).toBe('read')
    const listed = (await api('/api/v1/repos', { token: bobToken })).json.repos.map(
      (r: { name: string }) => r.name,
    )
    expect(listed).toEqual(['open'])
  })

  test('roles: an admin grants read, then write; the object API answers 403 to a reader who writes', async () => {
    const grant = (role: string | null) =>
      api('/api/v1/repos/ada/secret/collaborators/bob', {
        method: 'PUT',
        token: adaToken,
        body: { role },
      })
    expect((await grant('read')).status).toBe(200)
    expect((await api('/api/v1/repos/ada/secret', { token: bobToken })).json.role).toBe('read')
    const put = (token: string) =>
      fetch(`${hub.url}/ada/secret/mlvc/objects/notes/a.txt`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: 'x',
      })
    expect((await put(bobToken)).status).toBe(403)
    expect((await grant('write')).status).toBe(200)
    expect((await put(bobToken)).status).toBe(201)
    // bob may write but not administer: no grants from him.
    const byBob = await api('/api/v1/repos/ada/secret/collaborators/root', {
      method: 'PUT',
      token: bobToken,
      body: { role: 'read' },
    })
    expect(byBob.status).toBe(403)
    expect((await grant(null)).status).toBe(200)
    expect((await api('/api/v1/repos/ada/secret', { token: bobToken })).status).toBe(404)
  })

  test('a token for one repository reads no other private one', async () => {
    const scoped = (
      await api('/api/v1/tokens', {
        method: 'POST',
        token: adaToken,
        body: { repo: 'ada/open', scope: 'write' },
      })
    ).json.secret
    expect((await api('/api/v1/repos/ada/open', { token: scoped })).status).toBe(200)
    expect((await api('/api/v1/repos/ada/secret', { token: scoped })).status).toBe(404)
  })

  test('organizations: members get their role on its repositories; only admins add users', async () => {
    const org = await api('/api/v1/orgs', {
      method: 'POST',
      token: adaToken,
      body: { name: 'lab' },
    })
    expect(org.status).toBe(201)
    const repo = { owner: 'lab', name: 'models' }
    expect(
      (await api('/api/v1/repos', { method: 'POST', token: adaToken, body: repo })).status,
    ).toBe(201)
    expect((await api('/api/v1/repos/lab/models', { token: bobToken })).status).toBe(404)
    const member = (token: string) =>
      api('/api/v1/orgs/lab/members/bob', { method: 'PUT', token, body: { role: 'read' } })
    expect((await member(bobToken)).status).toBe(403)
    expect((await member(adaToken)).status).toBe(200)
    expect((await api('/api/v1/repos/lab/models', { token: bobToken })).json.role).toBe('read')
    const eve = (token: string, name = 'eve') =>
      api('/api/v1/users', { method: 'POST', token, body: { name } })
    expect((await eve(adaToken)).status).toBe(403)
    expect((await eve(adminToken)).status).toBe(201)
    expect((await eve(adminToken, 'EVE')).status).toBe(409)
  })
})

describe('untrusted input', () => {
  test.each([
    ['..', 'dots'],
    ['a..b', 'dots inside'],
    ['a/b', 'a slash'],
    ['a\u0000b', 'NUL'],
    ['modèle', 'non-ASCII'],
    ['\u0430da', 'a Cyrillic look-alike'],
    ['x.git', 'a .git ending'],
    ['', 'nothing'],
  ])('a repository named %j (%s) is refused with 400', async (name) => {
    const made = await api('/api/v1/repos', { method: 'POST', token: adaToken, body: { name } })
    expect(made.status).toBe(400)
    expect(made.json.error.code).toBe('USAGE')
  })

  test('paths that try to escape are not found', async () => {
    for (const path of [
      '/ada/../etc/passwd',
      '/ada/secret/mlvc/objects/..%2F..%2Fhub.db',
      '/%2e%2e/secret/info/refs',
    ]) {
      const response = await fetch(`${hub.url}${path}`, {
        headers: { authorization: `Bearer ${adaToken}` },
      })
      expect([400, 404]).toContain(response.status)
    }
  })

  test('a JSON body over the limit is 413, headers over the limit are 431', async () => {
    const big = await api('/api/v1/orgs', {
      method: 'POST',
      token: adaToken,
      body: { name: 'x'.repeat(2 * 1024 * 1024) },
    })
    expect(big.status).toBe(413)
    const huge = await fetch(`${hub.url}/api/v1/health`, {
      headers: { 'x-pad': 'y'.repeat(64 * 1024) },
    })
    expect(huge.status).toBe(431)
  })

  test('a client that stalls in its headers is cut off, and others are served meanwhile', async () => {
    const { port, hostname } = new URL(hub.url)
    const socket = connect(Number(port), hostname)
    socket.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n')
    // Served while the stalled one holds its connection.
    expect((await api('/api/v1/health')).json.ok).toBe(true)
    const closed = await new Promise<string>((done) => {
      let reply = ''
      socket.on('data', (d) => {
        reply += d.toString()
      })
      socket.on('close', () => done(reply))
    })
    expect(closed).toMatch(/^HTTP\/1.1 408|^$/)
  })
})
