import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { randomF32, writeF32Model } from '../checkpoint/test-helpers/index.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'
import { type HubProcess, hubAdmin, hubUser, startHubProcess } from './test-helpers/index.ts'

// Issue 15's load test: 32 clients clone and push at once, through one hub process. The issue
// names a 256 MiB checkpoint; CI uses 16 MiB (with 64 MiB the test took 12 minutes on the 2-core
// machine at load 12: 32 clones write every byte twice, work tree and store).
const CLIENTS = 32
const SMALL_FILES = 1000
const TENSORS = 16
const TENSOR_VALUES = (16 * 1024 * 1024) / 4 / TENSORS
/** The hub's memory budget (issue 15): its peak RSS over the whole test. */
const HUB_RSS_BUDGET_MIB = 400

const root = tempDir('mlvc-hub-many')
const data = join(root, 'hub')
const ada = gitSandbox(root, 'ada')
let hub: HubProcess
let url: string

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const smallName = (i: number) => `data/f${String(i).padStart(4, '0')}.txt`
const smallBody = (i: number) => `sample ${i}\n`.repeat(1 + (i % 7))

beforeAll(async () => {
  await hubAdmin(data, 'user', 'add', 'ada')
  const token = await hubAdmin(data, 'token', 'create', 'ada')
  await hubAdmin(data, 'repo', 'create', 'ada/shared')
  hub = await startHubProcess(data)
  url = `${hub.url}/ada/shared`
  await hubUser(ada, hub.url, 'ada', token)
}, 120_000)
afterAll(async () => {
  await hub?.stop()
})

async function hubPeakRssMiB(): Promise<number> {
  const status = await readFile(`/proc/${hub.child.pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024
}

describe(`${CLIENTS} clients at once through one hub`, () => {
  test('clone and push concurrently: every byte correct, no error, the hub under its memory budget', async () => {
    // The source: a checkpoint tracked tensor by tensor and 1,000 small files in plain git.
    const src = join(root, 'src')
    await ada.git(root, 'clone', '-q', url, src)
    expect((await ada.mlvc(src, 'init')).code).toBe(0)
    expect((await ada.mlvc(src, 'track', '*.safetensors')).code).toBe(0)
    expect((await ada.mlvc(src, 'remote', 'add', 'origin', url)).code).toBe(0)
    const tensors: Record<string, Buffer> = {}
    for (let t = 0; t < TENSORS; t++) tensors[`layer${t}.weight`] = randomF32(TENSOR_VALUES, t + 1)
    writeF32Model(join(src, 'model.safetensors'), tensors)
    mkdirSync(join(src, 'data'))
    for (let i = 0; i < SMALL_FILES; i++) writeFileSync(join(src, smallName(i)), smallBody(i))
    await ada.git(src, 'add', '.')
    await ada.git(src, 'commit', '-qm', 'model and data')
    const first = await ada.gitResult(src, 'push', 'origin', 'HEAD:main')
    expect(first.code, first.stderr).toBe(0)
    const model = sha(readFileSync(join(src, 'model.safetensors')))

    // Every client clones, checks every byte, changes one tensor and one file on a branch of its
    // own and pushes it: clones and pushes overlap.
    const client = async (c: number) => {
      const dir = join(root, `client${c}`)
      const clone = await ada.gitResult(root, 'clone', '-q', url, dir)
      expect(clone.code, `client ${c} clone: ${clone.stderr}`).toBe(0)
      expect(sha(readFileSync(join(dir, 'model.safetensors'))), `client ${c} model`).toBe(model)
      for (let i = 0; i < SMALL_FILES; i += 97)
        expect(readFileSync(join(dir, smallName(i)), 'utf8')).toBe(smallBody(i))
      const changed = { ...tensors, 'layer0.weight': randomF32(TENSOR_VALUES, 1000 + c) }
      writeF32Model(join(dir, 'model.safetensors'), changed)
      writeFileSync(join(dir, smallName(c)), `client ${c}\n`)
      await ada.git(dir, 'checkout', '-qb', `client-${c}`)
      await ada.git(dir, 'commit', '-qam', `client ${c}`)
      const push = await ada.gitResult(dir, 'push', '-q', 'origin', `client-${c}`)
      expect(push.code, `client ${c} push: ${push.stderr}`).toBe(0)
      return sha(readFileSync(join(dir, 'model.safetensors')))
    }
    const pushed = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))

    // Every branch landed whole: a fresh clone of each has its client's bytes.
    const heads = await ada.git(src, 'ls-remote', '--heads', 'origin')
    for (let c = 0; c < CLIENTS; c++) expect(heads).toContain(`refs/heads/client-${c}`)
    for (const c of [0, CLIENTS - 1]) {
      const check = join(root, `check${c}`)
      await ada.git(root, 'clone', '-q', '-b', `client-${c}`, url, check)
      expect(sha(readFileSync(join(check, 'model.safetensors')))).toBe(pushed[c])
      expect(readFileSync(join(check, smallName(c)), 'utf8')).toBe(`client ${c}\n`)
    }
    const fsck = await ada.mlvc(root, 'hub', 'fsck', '--data', data)
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    expect(await hubPeakRssMiB()).toBeLessThan(HUB_RSS_BUDGET_MIB)
    expect(hub.log()).not.toMatch(/"level":"error"/)
  }, 900_000)
})
