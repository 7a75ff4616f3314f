import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  averageF32,
  randomF32,
  tensorBytes,
  writeF32Model,
} from '../checkpoint/test-helpers/index.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { interruptWhen, tempDir } from '../test-helpers/index.ts'

const root = tempDir('mlvc-merge-e2e')
const user = gitSandbox(root, 'merger')
let n = 0

const base = { x: randomF32(200_000, 1), y: randomF32(100_000, 2), z: randomF32(100_000, 3) }
const left = { ...base, x: randomF32(200_000, 4), z: randomF32(100_000, 5) }
const right = { ...base, x: randomF32(200_000, 6), y: randomF32(100_000, 7) }

/** A repository with base on main, `left` and `right` branches changing the model differently. */
async function divergedRepo(attributes: string): Promise<string> {
  const dir = join(root, `repo-${n++}`)
  mkdirSync(dir)
  await user.git(dir, 'init', '-q')
  expect((await user.mlvc(dir, 'track', '*.safetensors')).code).toBe(0)
  writeFileSync(
    join(dir, '.gitattributes'),
    `*.safetensors filter=mlvc diff=mlvc merge=mlvc -text${attributes}\n`,
  )
  writeF32Model(join(dir, 'model.safetensors'), base)
  await user.git(dir, 'add', '.')
  await user.git(dir, 'commit', '-qm', 'base')
  await user.git(dir, 'checkout', '-qb', 'left')
  writeF32Model(join(dir, 'model.safetensors'), left)
  await user.git(dir, 'commit', '-qam', 'left')
  await user.git(dir, 'checkout', '-qb', 'right', 'main')
  writeF32Model(join(dir, 'model.safetensors'), right)
  await user.git(dir, 'commit', '-qam', 'right')
  await user.git(dir, 'checkout', '-q', 'left')
  return dir
}

beforeAll(async () => {
  expect((await user.mlvc(root, 'install')).code).toBe(0)
})

describe('git merge of checkpoints, tensor by tensor', () => {
  test('with mlvc-merge=average: merges; one-sided changes kept; values exact', async () => {
    const dir = await divergedRepo(' mlvc-merge=average')
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'right')
    expect(merge.code, merge.stderr).toBe(0)
    expect(merge.stderr).toMatch(/mlvc: merged model\.safetensors tensor by tensor: .*1 average/)
    const file = join(dir, 'model.safetensors')
    expect((await tensorBytes(file, 'x')).equals(averageF32(left.x, right.x))).toBe(true)
    expect((await tensorBytes(file, 'y')).equals(right.y)).toBe(true)
    expect((await tensorBytes(file, 'z')).equals(left.z)).toBe(true)
    expect(await user.git(dir, 'status', '--porcelain')).toBe('')
    // The merged file the driver wrote went into the work tree or away, not left in the store.
    expect(readdirSync(join(dir, '.git', 'mlvc', 'tmp'))).toEqual([])
  })

  test('by default a conflict: clear report, ours in the work tree; mlvc resolve finishes it', async () => {
    const dir = await divergedRepo('')
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'right')
    expect(merge.code).toBe(1)
    expect(merge.stderr).toContain(
      'mlvc: conflict in model.safetensors: the work tree has our version.',
    )
    expect(merge.stderr).toContain('  x: changed on both sides')
    expect(merge.stderr).toContain("mlvc resolve 'model.safetensors' --strategy average")
    expect(await user.git(dir, 'status', '--porcelain')).toBe('UU model.safetensors\n')
    const file = join(dir, 'model.safetensors')
    expect((await tensorBytes(file, 'x')).equals(left.x)).toBe(true)
    const resolved = await user.mlvc(dir, 'resolve', 'model.safetensors', '--strategy', 'average')
    expect(resolved.code, resolved.stderr).toBe(0)
    expect((await tensorBytes(file, 'x')).equals(averageF32(left.x, right.x))).toBe(true)
    expect((await tensorBytes(file, 'y')).equals(right.y)).toBe(true)
    expect(await user.git(dir, 'status', '--porcelain')).toBe('M  model.safetensors\n')
    await user.git(dir, 'commit', '-qm', 'merged')
    expect(await user.git(dir, 'status', '--porcelain')).toBe('')
  })

  test('mlvc merge --strategy theirs, and a rebase through the same driver', async () => {
    const dir = await divergedRepo('')
    const merged = await user.mlvc(dir, 'merge', '--strategy', 'theirs', '--no-edit', 'right')
    expect(merged.code, merged.stderr).toBe(0)
    expect((await tensorBytes(join(dir, 'model.safetensors'), 'x')).equals(right.x)).toBe(true)
    expect((await tensorBytes(join(dir, 'model.safetensors'), 'z')).equals(left.z)).toBe(true)

    const other = await divergedRepo(' mlvc-merge=average')
    const rebase = await user.gitResult(other, 'rebase', 'right')
    expect(rebase.code, rebase.stderr).toBe(0)
    const file = join(other, 'model.safetensors')
    expect((await tensorBytes(file, 'y')).equals(right.y)).toBe(true)
    expect((await tensorBytes(file, 'z')).equals(left.z)).toBe(true)
    expect(await user.git(other, 'status', '--porcelain')).toBe('')
  })
})

describe('mlvc merge --interactive', () => {
  test('asks on the terminal for each tensor changed on both sides', async () => {
    const dir = await divergedRepo('')
    const { CLI, runCommand } = await import('../test-helpers/index.ts')
    // `script` gives the command a pseudo-terminal and types our answer into it.
    const command = `'${process.execPath}' '${CLI}' merge --interactive --no-edit right`
    const run = await runCommand('script', ['-qec', command, '/dev/null'], {
      cwd: dir,
      env: user.env,
      input: 'a\n',
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.stdout).toContain('model.safetensors: x changed on both sides.')
    const file = join(dir, 'model.safetensors')
    expect((await tensorBytes(file, 'x')).equals(averageF32(left.x, right.x))).toBe(true)
    expect(await user.git(dir, 'status', '--porcelain')).toBe('')
  })
})

describe('an interrupted merge', () => {
  test('Ctrl-C while the driver writes the merged file: nothing half-written, our version kept, the merge runs again', async () => {
    const dir = join(root, `repo-${n++}`)
    mkdirSync(dir)
    await user.git(dir, 'init', '-q')
    writeFileSync(
      join(dir, '.gitattributes'),
      '*.safetensors filter=mlvc diff=mlvc merge=mlvc -text mlvc-merge=average\n',
    )
    const model = join(dir, 'model.safetensors')
    const big = (seed: number) => ({
      w: randomF32(12_000_000, seed),
      v: randomF32(4_000_000, seed + 1),
    })
    const ours = big(20)
    const theirs = big(30)
    writeF32Model(model, big(10))
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'base')
    await user.git(dir, 'checkout', '-qb', 'theirs')
    writeF32Model(model, theirs)
    await user.git(dir, 'commit', '-qam', 'theirs')
    await user.git(dir, 'checkout', '-q', 'main')
    writeF32Model(model, ours)
    await user.git(dir, 'commit', '-qam', 'ours')
    const tmp = join(dir, '.git', 'mlvc', 'tmp')
    const writing = () => existsSync(tmp) && readdirSync(tmp).some((f) => f.startsWith('merge-out'))
    const { interrupted, stderr } = await interruptWhen(
      'git',
      ['merge', '--no-edit', 'theirs'],
      { cwd: dir, env: user.env },
      writing,
    )
    expect(interrupted, stderr).toBe(true)
    expect(stderr).toContain(
      'mlvc: interrupted while merging model.safetensors; nothing was stored, the work tree keeps our version',
    )
    // The driver stops at its next block and removes what it wrote; nothing is left ready.
    expect(readdirSync(tmp)).toEqual([])
    expect((await tensorBytes(model, 'w')).equals(ours.w)).toBe(true)
    const fsck = await user.mlvc(dir, 'fsck')
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0)
    // Whatever state git was left in, a reset and the same merge finish it.
    await user.git(dir, 'reset', '-q', '--hard', 'main')
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'theirs')
    expect(merge.code, merge.stderr).toBe(0)
    expect((await tensorBytes(model, 'v')).equals(averageF32(ours.v, theirs.v))).toBe(true)
    // Git, killed while its merge driver ran, leaves its own temporary inputs (.merge_file_*).
    const status = (await user.git(dir, 'status', '--porcelain')).split('\n').filter(Boolean)
    expect(status.filter((line) => !/^\?\? \.merge_file_\w+$/.test(line))).toEqual([])
  })
})
