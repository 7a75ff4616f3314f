import { spawn } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox } from '../test-helpers/git.ts'
import { CLI, pseudoRandomBytes, runCommand, tempDir } from '../test-helpers/index.ts'
import { type HubProcess, hubAdmin, hubUser, startHubProcess } from './test-helpers/index.ts'

// kill -9 of the hub in the middle of a push: afterwards the push landed whole or not at all, and
// the client's retry completes. A hub of its own: this file kills it.
const MiB = 1024 * 1024
const root = tempDir('mlvc-hub-kill')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
let hub: HubProcess
let token: string

beforeAll(async () => {
  await hubAdmin(data, 'user', 'add', 'ada')
  token = await hubAdmin(data, 'token', 'create', 'ada')
  await hubAdmin(data, 'repo', 'create', 'ada/big')
  hub = await startHubProcess(data)
  await hubUser(ada, hub.url, 'ada', token)
})
afterAll(() => hub?.stop())

/** Runs `args` in `cwd` as ada; kills the hub (-9) as soon as `busy()` holds. Resolves to git's result. */
function pushWhile(cwd: string, args: string[], busy: () => boolean) {
  const child = spawn(args[0] as string, args.slice(1), {
    cwd,
    env: ada.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  let killed = false
  const timer = setInterval(() => {
    if (!killed && busy()) {
      killed = true
      hub.child.kill('SIGKILL')
    }
  }, 2)
  return new Promise<{ code: number | null; stderr: string; killed: boolean }>((done) =>
    child.on('close', (code) => {
      clearInterval(timer)
      done({ code, stderr, killed })
    }),
  )
}

function repoDir(): string {
  const repos = readdirSync(join(data, 'repos'))
  return join(data, 'repos', repos[0] as string)
}

describe('kill -9 during a push', () => {
  test('git push: the hub dies while git receives the pack; the branch did not move, the repository is sound, the retry lands', async () => {
    const work = join(root, 'work')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/big`, work)
    for (let i = 0; i < 4; i++)
      writeFileSync(join(work, `raw-${i}.dat`), pseudoRandomBytes(8 * MiB, 100 + i))
    await ada.git(work, 'add', '.')
    await ada.git(work, 'commit', '-qm', 'raw data')
    const objects = join(repoDir(), 'objects')
    // Git receives a push into objects/tmp_objdir-incoming-*, its quarantine.
    const receiving = () =>
      existsSync(objects) && readdirSync(objects).some((f) => f.startsWith('tmp_objdir-incoming'))
    const first = await pushWhile(
      work,
      ['git', 'push', '-q', '--no-verify', 'origin', 'HEAD:main'],
      receiving,
    )
    expect(first.killed).toBe(true)
    await hub.kill()
    hub = await startHubProcess(data, { args: ['--listen', new URL(hub.url).host] })
    // Whole or nothing: if the branch exists it is the pushed commit.
    const refs = await ada.git(work, 'ls-remote', 'origin')
    const head = (await ada.git(work, 'rev-parse', 'HEAD')).trim()
    expect(refs === '' || refs.startsWith(head)).toBe(true)
    const fsck = await runCommand('git', ['fsck', '--no-progress'], { cwd: repoDir() })
    expect(fsck.code, fsck.stderr).toBe(0)
    const retry = await ada.gitResult(work, 'push', '-q', '--no-verify', 'origin', 'HEAD:main')
    expect(retry.code, retry.stderr).toBe(0)
    expect((await ada.git(work, 'ls-remote', 'origin')).startsWith(head)).toBe(true)
  })

  test('mlvc push: the hub dies while a pack uploads; nothing half-written is visible, the retry completes and a clone gets every byte', async () => {
    const work = join(root, 'work')
    expect((await ada.mlvc(work, 'init')).code).toBe(0)
    expect((await ada.mlvc(work, 'track', '*.bin')).code).toBe(0)
    expect((await ada.mlvc(work, 'remote', 'add', 'origin', `${hub.url}/ada/big`)).code).toBe(0)
    const model = pseudoRandomBytes(3 * MiB, 5)
    writeFileSync(join(work, 'model.bin'), model)
    await ada.git(work, 'add', '.')
    await ada.git(work, 'commit', '-qm', 'model')
    const tmp = join(data, 'tmp')
    const uploading = () => readdirSync(tmp).length > 0
    const first = await pushWhile(work, [process.execPath, CLI, 'push'], uploading)
    expect(first.killed).toBe(true)
    expect(first.code).not.toBe(0)
    await hub.kill()
    hub = await startHubProcess(data, { args: ['--listen', new URL(hub.url).host] })
    const objects = join(data, 'objects')
    const packs = existsSync(objects) ? readdirSync(objects, { recursive: true }).map(String) : []
    // Only whole objects under their names: received bytes wait in tmp/ until they are complete.
    expect(packs.filter((p) => p.includes('.incoming') || p.includes('upload-'))).toEqual([])
    const retry = await ada.mlvc(work, 'push')
    expect(retry.code, retry.stderr).toBe(0)
    const push = await ada.gitResult(work, 'push', 'origin', 'HEAD:main')
    expect(push.code, push.stderr).toBe(0)
    const clone = join(root, 'clone')
    await ada.git(root, 'clone', '-q', `${hub.url}/ada/big`, clone)
    const pull = await ada.mlvc(clone, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(join(clone, 'model.bin')).equals(model)).toBe(true)
  })
})
