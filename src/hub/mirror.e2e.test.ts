import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { runCli, tempDir } from '../test-helpers/index.ts'
import { basic, type HubProcess, hubAdmin, startHubProcess } from './test-helpers/index.ts'

// Hub A mirrors its repositories to a second Git server started by the test: hub B.
const root = tempDir('mlvc-hub-mirror')
const dataA = join(root, 'a')
const dataB = join(root, 'b')
const ada = gitSandbox(root, 'ada')
let a: HubProcess
let b: HubProcess
let adaToken: string
let bobToken: string
let webhook: string

const withAuth = (hub: HubProcess, user: string, token: string) =>
  hub.url.replace('http://', `http://${user}:${token}@`)
const aUrl = (repo: string) => `${withAuth(a, 'ada', adaToken)}/ada/${repo}`
const bUrl = (repo: string) => `${withAuth(b, 'bob', bobToken)}/bob/${repo}`

async function headOf(url: string, branch = 'main'): Promise<string | undefined> {
  const out = await ada.gitResult(root, 'ls-remote', url, `refs/heads/${branch}`)
  return out.stdout.split('\t')[0] || undefined
}

/** Polls until `check` holds (a push-through runs after the push's response). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error(`${what} never happened`)
}

async function commit(dir: string, file: string, text: string): Promise<string> {
  writeFileSync(join(dir, file), text)
  await ada.git(dir, 'add', file)
  await ada.git(dir, 'commit', '-qm', file)
  return (await ada.git(dir, 'rev-parse', 'HEAD')).trim()
}

interface MirrorJson {
  webhookSecret: string
  lastError: string | null
  conflicts: Array<{ ref: string; hub: string; mirror: string }>
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${a.url}/api/v1${path}`, {
    method,
    headers: { authorization: basic('ada', adaToken), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, json: (await response.json()) as MirrorJson }
}

beforeAll(async () => {
  await hubAdmin(dataB, 'user', 'add', 'bob')
  bobToken = await hubAdmin(dataB, 'token', 'create', 'bob')
  await hubAdmin(dataB, 'repo', 'create', 'bob/app')
  await hubAdmin(dataB, 'repo', 'create', 'bob/sched')
  await hubAdmin(dataA, 'user', 'add', 'ada')
  adaToken = await hubAdmin(dataA, 'token', 'create', 'ada', '--scope', 'admin')
  await hubAdmin(dataA, 'repo', 'create', 'ada/app')
  await hubAdmin(dataA, 'repo', 'create', 'ada/sched')
  mkdirSync(dataA, { recursive: true })
  writeFileSync(join(dataA, 'hub.yaml'), 'mirror:\n  intervalMs: 500\n')
  ;[a, b] = await Promise.all([startHubProcess(dataA), startHubProcess(dataB)])
  const set = await api('PUT', '/repos/ada/app/mirror', {
    url: `${b.url}/bob/app`,
    username: 'bob',
    password: bobToken,
    intervalSeconds: 3600,
  })
  expect(set.status).toBe(200)
  webhook = set.json.webhookSecret
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
})

describe('mirror sync', () => {
  const work = join(root, 'work')
  const other = join(root, 'other')

  test('every push to the hub is pushed on to the mirror', async () => {
    await ada.git(root, 'init', '-q', work)
    const first = await commit(work, 'a.txt', 'one\n')
    await ada.git(work, 'push', '-q', aUrl('app'), 'HEAD:main')
    await eventually(
      async () => (await headOf(bUrl('app'))) === first,
      'push-through to the mirror',
    )
  })

  test('a webhook call pulls what was pushed to the mirror; a wrong secret is 404', async () => {
    await ada.git(root, 'clone', '-q', bUrl('app'), other)
    const second = await commit(other, 'b.txt', 'two\n')
    await ada.git(other, 'push', '-q', 'origin', 'HEAD:main')
    const hook = (secret: string) =>
      fetch(`${a.url}/ada/app/mirror/webhook`, {
        method: 'POST',
        headers: { 'x-mlvc-webhook-secret': secret },
      })
    expect((await hook('wrong')).status).toBe(404)
    expect((await hook(webhook)).status).toBe(200)
    expect(await headOf(aUrl('app'))).toBe(second)
  })

  test('the hub serves while the mirror is down; a branch moved on both sides keeps both heads and is reported; a merge resolves it', async () => {
    await ada.git(work, 'pull', '-q', aUrl('app'), 'main')
    const port = new URL(b.url).host
    await b.stop()
    const ours = await commit(work, 'ours.txt', 'ours\n')
    const push = await ada.gitResult(work, 'push', '-q', aUrl('app'), 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    await eventually(
      async () => (await api('GET', '/repos/ada/app/mirror')).json.lastError !== null,
      'the error recorded',
    )
    expect(JSON.stringify((await api('GET', '/repos/ada/app/mirror')).json)).not.toContain(bobToken)

    b = await startHubProcess(dataB, { args: ['--listen', port] })
    await ada.git(other, 'pull', '-q', 'origin', 'main')
    const theirs = await commit(other, 'theirs.txt', 'theirs\n')
    await ada.git(other, 'push', '-q', 'origin', 'HEAD:main')
    const synced = await api('POST', '/repos/ada/app/mirror/sync')
    expect(synced.json.conflicts).toEqual([
      expect.objectContaining({ ref: 'refs/heads/main', hub: ours, mirror: theirs }),
    ])
    // Neither side was overwritten.
    expect(await headOf(aUrl('app'))).toBe(ours)
    expect(await headOf(bUrl('app'))).toBe(theirs)
    const mirrored = await ada.git(root, 'ls-remote', aUrl('app'), 'refs/mirror/heads/main')
    expect(mirrored.startsWith(theirs)).toBe(true)
    const status = await runCli(['hub', 'mirror', 'status', 'ada/app', '--data', dataA])
    expect(status.code).toBe(1)
    expect(status.stdout).toContain('DIVERGED refs/heads/main')

    await ada.git(work, 'fetch', '-q', aUrl('app'), 'refs/mirror/heads/main')
    await ada.git(work, 'merge', '-q', '--no-edit', 'FETCH_HEAD')
    const merged = (await ada.git(work, 'rev-parse', 'HEAD')).trim()
    await ada.git(work, 'push', '-q', aUrl('app'), 'HEAD:main')
    await eventually(async () => (await headOf(bUrl('app'))) === merged, 'the merge pushed through')
    await eventually(
      async () => (await api('GET', '/repos/ada/app/mirror')).json.conflicts.length === 0,
      'the conflict cleared',
    )
  })

  test('a mirror with an interval is pulled on schedule', async () => {
    const set = await api('PUT', '/repos/ada/sched/mirror', {
      url: `${b.url}/bob/sched`,
      username: 'bob',
      password: bobToken,
      intervalSeconds: 1,
    })
    expect(set.status).toBe(200)
    const sched = join(root, 'sched')
    await ada.git(root, 'init', '-q', sched)
    const head = await commit(sched, 's.txt', 'scheduled\n')
    await ada.git(sched, 'push', '-q', bUrl('sched'), 'HEAD:main')
    await eventually(async () => (await headOf(aUrl('sched'))) === head, 'the scheduled pull')
  })

  test('the logs name the mirror but never its token', () => {
    expect(a.log()).toContain('mirror')
    expect(a.log()).not.toContain(bobToken)
    expect(a.log()).not.toContain(adaToken)
  })
})
