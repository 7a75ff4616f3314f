import { createHash } from 'node:crypto'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { gitSandbox, mlvcRepo } from '../test-helpers/git.ts'
import { pauseWhen, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'

// Files above git.inlineSmudgeLimit are smudged as their stub and written by mlvc once git is
// done. These tests stop that write halfway (SIGSTOP to the whole git process group), do what
// another process could do at that moment, and let it finish.

const MiB = 1024 * 1024
const root = tempDir('mlvc-worktree')
const user = gitSandbox(root, 'ada')
const SIGNATURE = '# mlvc stub v1'
let n = 0

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/**
 * A repository whose `main` has `files` (path → size; big enough for a write to be caught halfway)
 * and whose branch `empty` has none of them, checked out.
 */
async function repoWith(files: Record<string, number>) {
  const dir = join(root, `repo-${n++}`)
  await mlvcRepo(user, dir, join(root, `remote-${n++}`))
  const data: Record<string, Buffer> = {}
  for (const [i, [path, size]] of Object.entries(files).entries()) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    data[path] = pseudoRandomBytes(size, 300 + n + i)
    writeFileSync(join(dir, path), data[path] as Buffer)
  }
  await user.git(dir, 'add', '.')
  await user.git(dir, 'commit', '-qm', 'models')
  await user.git(dir, 'checkout', '-qb', 'empty')
  await user.git(dir, 'rm', '-rq', ...Object.keys(files))
  await user.git(dir, 'commit', '-qm', 'none')
  const outside = join(root, `outside-${n++}`)
  mkdirSync(outside)
  return { dir, data, outside, tmp: join(dir, '.git', 'mlvc-tmp') }
}

/**
 * `git checkout main`, stopped while mlvc writes `writing` into its temporary file (its stub still
 * in place); `meanwhile` runs then. Fails if the write could not be caught halfway.
 */
async function checkoutPaused(dir: string, tmp: string, writing: string, meanwhile: () => void) {
  const stub = (await user.git(dir, 'show', `main:${writing}`)).trim()
  const result = await pauseWhen(
    'git',
    ['checkout', '-q', 'main'],
    { cwd: dir, env: user.env },
    () => existsSync(tmp) && readdirSync(tmp).length > 0,
    () => {
      const now = readFileSync(join(dir, writing))
      expect(now.length < 4096 && now.toString().trim() === stub, 'its stub is still there').toBe(
        true,
      )
      meanwhile()
    },
  )
  expect(result.paused).toBe(true)
  expect(readdirSync(tmp)).toEqual([])
  return result.stderr
}

beforeAll(async () => {
  const install = await user.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

describe('the large-file writes after git checkout: races and symlink swaps', () => {
  test('the file replaced by a symlink meanwhile: the symlink and its target stay untouched', async () => {
    const { dir, outside, tmp } = await repoWith({ 'sub/model.bin': 128 * MiB })
    const target = join(outside, 'victim.txt')
    writeFileSync(target, 'not yours')
    await checkoutPaused(dir, tmp, 'sub/model.bin', () => {
      rmSync(join(dir, 'sub/model.bin'))
      symlinkSync(target, join(dir, 'sub/model.bin'))
    })
    expect(lstatSync(join(dir, 'sub/model.bin')).isSymbolicLink()).toBe(true)
    expect(readFileSync(target, 'utf8')).toBe('not yours')
  })

  test('a parent folder swapped for a symlink meanwhile: nothing is written outside the work tree', async () => {
    const { dir, data, outside, tmp } = await repoWith({ 'sub/model.bin': 128 * MiB })
    await checkoutPaused(dir, tmp, 'sub/model.bin', () => {
      renameSync(join(dir, 'sub'), join(dir, 'moved'))
      symlinkSync(outside, join(dir, 'sub'))
    })
    expect(readdirSync(outside)).toEqual([])
    // The file went into the folder that was opened, wherever it was moved inside the work tree.
    expect(sha(readFileSync(join(dir, 'moved/model.bin')))).toBe(
      sha(data['sub/model.bin'] as Buffer),
    )
  })

  test('a parent folder that is a symlink when mlvc comes to the file: refused, by name', async () => {
    const { dir, outside, tmp } = await repoWith({ 'a.bin': 128 * MiB, 'sub/model.bin': 5 * MiB })
    const stub = await user.git(dir, 'show', 'main:sub/model.bin')
    // What is outside even holds the stub, so only the folder check stops the write.
    writeFileSync(join(outside, 'model.bin'), stub)
    const stderr = await checkoutPaused(dir, tmp, 'a.bin', () => {
      renameSync(join(dir, 'sub'), join(dir, 'moved'))
      symlinkSync(outside, join(dir, 'sub'))
    })
    expect(readFileSync(join(outside, 'model.bin'), 'utf8')).toBe(stub)
    expect(stderr).toContain(
      "mlvc: sub/model.bin: could not write its content: its folder sub is a symlink; mlvc writes only into the work tree's own folders",
    )
  })

  test('the file changed by the user meanwhile: the change is kept', async () => {
    const { dir, tmp } = await repoWith({ 'model.bin': 128 * MiB })
    await checkoutPaused(dir, tmp, 'model.bin', () => {
      writeFileSync(join(dir, 'model.bin'), 'my own edit')
    })
    const kept = readFileSync(join(dir, 'model.bin'))
    expect(kept.length).toBe(11)
    expect(kept.toString()).toBe('my own edit')
    expect(await user.git(dir, 'status', '--porcelain')).toBe(' M model.bin\n')
  })

  test('undisturbed, the same write completes (the harness does not break it)', async () => {
    const { dir, data, tmp } = await repoWith({ 'model.bin': 128 * MiB })
    await checkoutPaused(dir, tmp, 'model.bin', () => undefined)
    expect(sha(readFileSync(join(dir, 'model.bin')))).toBe(sha(data['model.bin'] as Buffer))
    expect(readFileSync(join(dir, 'model.bin')).subarray(0, 14).toString()).not.toBe(SIGNATURE)
    expect(await user.git(dir, 'status', '--porcelain')).toBe('')
  })
})
