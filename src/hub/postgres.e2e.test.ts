import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { type PostgresServer, startPostgres, tempDir } from '../test-helpers/index.ts'
import { basic, type HubProcess, hubAdmin, startHubProcess } from './test-helpers/index.ts'

// Two hub processes on one PostgreSQL server, one object folder and one repository folder: what a
// hub behind a load balancer looks like.
const root = tempDir('mlvc-hub-pg')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
let pg: PostgresServer
let one: HubProcess
let two: HubProcess
let token: string

beforeAll(async () => {
  pg = await startPostgres()
  const { mkdirSync } = await import('node:fs')
  mkdirSync(data, { recursive: true })
  writeFileSync(join(data, 'hub.yaml'), `database: ${pg.url}\n`)
  // Both start at once: their migrations must not collide.
  ;[one, two] = await Promise.all([startHubProcess(data), startHubProcess(data)])
  await hubAdmin(data, 'user', 'add', 'ada')
  token = await hubAdmin(data, 'token', 'create', 'ada', '--scope', 'admin')
}, 120_000)
afterAll(async () => {
  await one?.stop()
  await two?.stop()
  await pg?.stop()
})

const auth = () => ({ authorization: basic('ada', token), 'content-type': 'application/json' })

describe('two hubs on one PostgreSQL', () => {
  test('both run on PostgreSQL; a repository made on one is served by the other', async () => {
    for (const hub of [one, two]) {
      const health = (await (await fetch(`${hub.url}/api/v1/health`)).json()) as {
        database: string
      }
      expect(health.database).toBe('postgres')
    }
    const made = await fetch(`${one.url}/api/v1/repos`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ name: 'shared' }),
    })
    expect(made.status).toBe(201)
    expect((await fetch(`${two.url}/api/v1/repos/ada/shared`, { headers: auth() })).status).toBe(
      200,
    )
  })

  test('pushes to both at once land; a clone from either has both branches', async () => {
    const credentials = `ada:${token}@`
    const urlOf = (hub: HubProcess) => hub.url.replace('http://', `http://${credentials}`)
    const work = join(root, 'work')
    await ada.git(root, 'init', '-q', work)
    writeFileSync(join(work, 'a.txt'), 'one\n')
    await ada.git(work, 'add', '.')
    await ada.git(work, 'commit', '-qm', 'first')
    await ada.git(work, 'push', '-q', `${urlOf(one)}/ada/shared`, 'HEAD:main')
    await ada.git(work, 'checkout', '-qb', 'left')
    writeFileSync(join(work, 'left.txt'), 'left\n')
    await ada.git(work, 'add', '.')
    await ada.git(work, 'commit', '-qm', 'left')
    await ada.git(work, 'checkout', '-q', 'main')
    await ada.git(work, 'checkout', '-qb', 'right')
    writeFileSync(join(work, 'right.txt'), 'right\n')
    await ada.git(work, 'add', '.')
    await ada.git(work, 'commit', '-qm', 'right')
    await Promise.all([
      ada.git(work, 'push', '-q', `${urlOf(one)}/ada/shared`, 'left'),
      ada.git(work, 'push', '-q', `${urlOf(two)}/ada/shared`, 'right'),
    ])
    for (const hub of [one, two]) {
      const refs = await ada.git(root, 'ls-remote', `${urlOf(hub)}/ada/shared`)
      expect(refs).toMatch(/refs\/heads\/left/)
      expect(refs).toMatch(/refs\/heads\/right/)
    }
    const clone = join(root, 'clone')
    await ada.git(root, 'clone', '-q', '-b', 'right', `${urlOf(two)}/ada/shared`, clone)
    expect(readFileSync(join(clone, 'right.txt'), 'utf8')).toBe('right\n')
  })

  test('a token revoked through one hub is refused by the other at once', async () => {
    const made = await fetch(`${one.url}/api/v1/tokens`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ name: 'temp', scope: 'read' }),
    })
    const temp = (await made.json()) as { id: string; secret: string }
    const bearer = { authorization: `Bearer ${temp.secret}` }
    expect((await fetch(`${two.url}/api/v1/user`, { headers: bearer })).status).toBe(200)
    expect(
      (await fetch(`${one.url}/api/v1/tokens/${temp.id}`, { method: 'DELETE', headers: auth() }))
        .status,
    ).toBe(200)
    expect((await fetch(`${two.url}/api/v1/user`, { headers: bearer })).status).toBe(401)
  })

  test('a web session made on one hub works on the other (sessions live in PostgreSQL); signing out ends it on both', async () => {
    const password = await fetch(`${one.url}/api/v1/user/password`, {
      method: 'PUT',
      headers: auth(),
      body: JSON.stringify({ password: 'a password on postgres' }),
    })
    expect(password.status).toBe(200)
    const signIn = await fetch(`${one.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ada', password: 'a password on postgres' }),
    })
    expect(signIn.status).toBe(201)
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const { csrf } = (await signIn.json()) as { csrf: string }
    const me = await fetch(`${two.url}/api/v1/user`, { headers: { cookie } })
    expect(me.status).toBe(200)
    const out = await fetch(`${two.url}/api/v1/session`, {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': csrf },
    })
    expect(out.status).toBe(200)
    for (const hub of [one, two])
      expect((await fetch(`${hub.url}/api/v1/user`, { headers: { cookie } })).status).toBe(401)
  })
})
