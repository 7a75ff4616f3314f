import { randomBytes } from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type GitSandbox, gitSandbox } from '../test-helpers/git.ts'
import { CLI, interruptWhen, pauseWhen, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'

const root = tempDir('mlvc-entities')
const ada = gitSandbox(root, 'ada')
const bob = gitSandbox(root, 'bob')

/** `count` files of 1–40 KiB in 10 folders, deterministic for `seed`; returns path → bytes. */
function writeDataset(dir: string, count: number, seed: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    const path = `part-${i % 10}/img-${String(i).padStart(4, '0')}.bin`
    const data = pseudoRandomBytes(1024 + ((i * 7919) % (39 * 1024)), seed * 100_000 + i)
    mkdirSync(join(dir, `part-${i % 10}`), { recursive: true })
    writeFileSync(join(dir, path), data)
    files.set(path, data)
  }
  return files
}

/** Every data file of an entity folder (not its spec, MANIFEST, .gitignore): path → bytes. */
function readFolder(dir: string, skip = ['MANIFEST', '.gitignore']): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = prefix + e.name
      if (!prefix && (skip.includes(e.name) || e.name.endsWith('.spec'))) continue
      if (e.isDirectory()) walk(join(d, e.name), `${path}/`)
      else out.set(path, readFileSync(join(d, e.name)))
    }
  }
  walk(dir, '')
  return out
}

async function ok(user: GitSandbox, cwd: string, ...args: string[]) {
  const result = await user.mlvc(cwd, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result
}

async function json<T>(user: GitSandbox, cwd: string, ...args: string[]): Promise<T> {
  return JSON.parse((await ok(user, cwd, '--json', ...args)).stdout) as T
}

async function newRepo(user: GitSandbox, name: string, remote?: string): Promise<string> {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  await user.git(dir, 'init', '-q')
  await user.git(dir, 'commit', '-q', '--allow-empty', '-m', 'start')
  if (remote) await ok(user, dir, 'remote', 'add', 'origin', remote)
  return dir
}

interface Status {
  staged: { added: string[]; modified: string[]; deleted: string[] }
  unstaged: { modified: string[]; deleted: string[]; untracked: string[] }
  hashed: number
  pending: string | null
}

describe('datasets as versioned entities', () => {
  // The two tests below share one repository: the second builds on the first version.
  let repo = ''
  let v1 = new Map<string, Buffer>()

  test('add, status, commit, tag: Git holds the spec and manifest only', async () => {
    repo = await newRepo(ada, 'versions')
    await ok(
      ada,
      repo,
      'dataset',
      'init',
      'imgs',
      '--category',
      'cv/images',
      '--mutability',
      'flexible',
    )
    const dir = join(repo, 'dataset/imgs')
    v1 = writeDataset(dir, 120, 1)
    expect(
      (await json<Status>(ada, repo, 'dataset', 'status', 'imgs')).unstaged.untracked,
    ).toHaveLength(120)
    await ok(ada, repo, 'dataset', 'add', 'imgs')
    const commit = await json<{ tag: string; files: number }>(
      ada,
      repo,
      'dataset',
      'commit',
      'imgs',
      '-m',
      'first',
    )
    expect(commit).toMatchObject({ tag: 'cv__images__imgs__1', files: 120 })
    expect((await ada.git(repo, 'ls-files')).trim().split('\n').sort()).toEqual([
      'dataset/imgs/.gitignore',
      'dataset/imgs/MANIFEST',
      'dataset/imgs/imgs.spec',
    ])
    expect(await ada.git(repo, 'status', '--porcelain')).toBe('')
    const clean = await json<Status>(ada, repo, 'dataset', 'status', 'imgs')
    expect(clean).toMatchObject({
      staged: { added: [], modified: [], deleted: [] },
      unstaged: { modified: [], deleted: [], untracked: [] },
      hashed: 0,
    })
  })

  test('a second version: status, partial add, reset, commit; checkout restores each version byte for byte as read-only links', async () => {
    const dir = join(repo, 'dataset/imgs')
    // Version 2: two files changed (one only touched), one removed, one added.
    writeFileSync(join(dir, 'part-1/img-0001.bin'), 'changed')
    const touched = join(dir, 'part-2/img-0002.bin')
    utimesSync(touched, new Date(), new Date(Date.now() + 5000))
    rmSync(join(dir, 'part-3/img-0003.bin'))
    writeFileSync(join(dir, 'part-9/new.bin'), 'new')
    const changed = await json<Status>(ada, repo, 'dataset', 'status', 'imgs')
    expect(changed.unstaged).toEqual({
      modified: ['part-1/img-0001.bin'],
      deleted: ['part-3/img-0003.bin'],
      untracked: ['part-9/new.bin'],
    })
    expect(changed.hashed).toBe(2)
    await ok(ada, repo, 'dataset', 'add', 'imgs', join(dir, 'part-1'))
    const partly = await json<Status>(ada, repo, 'dataset', 'status', 'imgs')
    expect(partly.staged).toEqual({ added: [], modified: ['part-1/img-0001.bin'], deleted: [] })
    await ok(ada, repo, 'dataset', 'reset', 'imgs')
    expect((await json<Status>(ada, repo, 'dataset', 'status', 'imgs')).staged.modified).toEqual([])
    await ok(ada, repo, 'dataset', 'add', 'imgs')
    expect((await json<{ tag: string }>(ada, repo, 'dataset', 'commit', 'imgs')).tag).toBe(
      'cv__images__imgs__2',
    )
    const diff = await ada.git(
      repo,
      'diff',
      '--numstat',
      'cv__images__imgs__1',
      'cv__images__imgs__2',
      '--',
      'dataset/imgs/MANIFEST',
    )
    expect(diff.trim()).toMatch(/^2\t2\t/)
    const v2 = readFolder(dir)

    const back = await json<{ linked: number; removed: number }>(
      ada,
      repo,
      'dataset',
      'checkout',
      'imgs@1',
    )
    expect(back.removed).toBe(1)
    expect(readFolder(dir)).toEqual(v1)
    const info = lstatSync(join(dir, 'part-1/img-0001.bin'))
    expect(info.nlink).toBeGreaterThan(1)
    expect(info.mode & 0o222).toBe(0)
    expect(readFileSync(join(dir, 'imgs.spec'), 'utf8')).toContain('version: 1')
    await ok(ada, repo, 'dataset', 'checkout', 'cv__images__imgs__2')
    expect(readFolder(dir)).toEqual(v2)
  })

  test('push to a folder remote; a clone checks out a random tenth (fetching only it), then all; lineage of a model', async () => {
    const remote = join(root, 'remote-store')
    const bare = join(root, 'shared.git')
    await ada.git(root, 'init', '-q', '--bare', bare)
    const repo = await newRepo(ada, 'pusher', remote)
    await ada.git(repo, 'remote', 'add', 'origin', bare)
    await ada.git(repo, 'add', '.mlvc')
    await ada.git(repo, 'commit', '-qm', 'mlvc remote')
    await ok(ada, repo, 'dataset', 'init', 'faces')
    const files = writeDataset(join(repo, 'dataset/faces'), 100, 2)
    await ok(ada, repo, 'dataset', 'add', 'faces')
    await ok(ada, repo, 'dataset', 'commit', 'faces')
    await ok(ada, repo, 'labels', 'init', 'boxes')
    writeFileSync(join(repo, 'labels/boxes/boxes.csv'), 'img,x,y\n')
    await ok(ada, repo, 'labels', 'add', 'boxes')
    await ok(ada, repo, 'labels', 'commit', 'boxes', '--dataset', 'faces')
    await ok(ada, repo, 'model', 'init', 'detector', '--mutability', 'mutable')
    writeFileSync(join(repo, 'model/detector/weights.bin'), pseudoRandomBytes(300_000, 9))
    await ok(ada, repo, 'model', 'add', 'detector')
    await ok(
      ada,
      repo,
      'model',
      'commit',
      'detector',
      '--dataset',
      'faces@1',
      '--labels',
      'boxes__1',
    )
    for (const [kind, name] of [
      ['dataset', 'faces'],
      ['labels', 'boxes'],
      ['model', 'detector'],
    ] as const)
      await ok(ada, repo, kind, 'push', name)
    await ada.git(repo, 'push', '-q', '--tags', 'origin', 'HEAD:main')
    const again = await json<{ uploadedObjects: number }>(ada, repo, 'dataset', 'push', 'faces')
    expect(again.uploadedObjects).toBe(0)

    const clone = join(root, 'bob-clone')
    await bob.git(root, 'clone', '-q', bare, clone)
    // The same seed picks the same tenth: the second run keeps what the first fetched.
    const sampleTenth = () =>
      json<{ selected: number; fetched: number; kept: number }>(
        bob,
        clone,
        'dataset',
        'checkout',
        'faces',
        '--sample-type',
        'random:1:10',
        '--seed',
        '5',
      )
    expect(await sampleTenth()).toMatchObject({ selected: 10, fetched: 10 })
    const sample = readFolder(join(clone, 'dataset/faces'))
    expect(sample.size).toBe(10)
    for (const [path, data] of sample) expect(data).toEqual(files.get(path))
    expect(await sampleTenth()).toMatchObject({ selected: 10, kept: 10 })
    await ok(bob, clone, 'model', 'checkout', 'detector', '--with-lineage')
    expect(readFolder(join(clone, 'dataset/faces'))).toEqual(files)
    expect(readFileSync(join(clone, 'labels/boxes/boxes.csv'), 'utf8')).toBe('img,x,y\n')
    expect(lstatSync(join(clone, 'model/detector/weights.bin')).nlink).toBe(1)
  })

  test('gc keeps the files of every version and of what is staged', async () => {
    const repo = await newRepo(ada, 'gc')
    await ok(ada, repo, 'dataset', 'init', 'kept')
    const v1 = writeDataset(join(repo, 'dataset/kept'), 30, 3)
    await ok(ada, repo, 'dataset', 'add', 'kept')
    await ok(ada, repo, 'dataset', 'commit', 'kept')
    rmSync(join(repo, 'dataset/kept/part-0'), { recursive: true, force: true })
    writeFileSync(join(repo, 'dataset/kept/staged.bin'), pseudoRandomBytes(5000, 77))
    await ok(ada, repo, 'dataset', 'add', 'kept')
    await ok(ada, repo, 'dataset', 'commit', 'kept')
    writeFileSync(join(repo, 'dataset/kept/only-staged.bin'), pseudoRandomBytes(6000, 78))
    await ok(ada, repo, 'dataset', 'add', 'kept')
    // Past gc's grace period: everything in the store is old enough to go if nothing keeps it.
    const packs = join(repo, '.git/mlvc/packs')
    const old = new Date(Date.now() - 3 * 3600_000)
    for (const f of readdirSync(packs)) utimesSync(join(packs, f), old, old)
    await ok(ada, repo, 'gc')
    rmSync(join(repo, '.git/mlvc-entities/cache'), { recursive: true, force: true })
    await ok(ada, repo, 'dataset', 'checkout', 'kept@1', '--force')
    expect(readFolder(join(repo, 'dataset/kept'))).toEqual(v1)
    expect((await ada.mlvc(repo, 'fsck')).code).toBe(0)
  })

  test('bad input: a spec edited into nonsense, a manifest naming ../, a missing tag, a sample out of range, a commit while another holds the lock', async () => {
    const repo = await newRepo(ada, 'bad')
    await ok(ada, repo, 'dataset', 'init', 'bad')
    const dir = join(repo, 'dataset/bad')
    writeDataset(dir, 12, 4)
    await ok(ada, repo, 'dataset', 'add', 'bad')
    await ok(ada, repo, 'dataset', 'commit', 'bad')
    const spec = join(dir, 'bad.spec')
    const good = readFileSync(spec, 'utf8')
    writeFileSync(spec, good.replace('mutability: strict', 'mutability: sometimes'))
    const nonsense = await ada.mlvc(repo, 'dataset', 'status', 'bad')
    expect(nonsense.code).toBe(1)
    expect(nonsense.stderr).toContain(
      `${spec}: mutability must be strict, flexible or mutable, got "sometimes"`,
    )
    writeFileSync(spec, good)

    // A manifest committed by hand that names a file outside the folder.
    const manifest = readFileSync(join(dir, 'MANIFEST'), 'utf8')
    const line = manifest.split('\n')[1] as string
    writeFileSync(
      join(dir, 'MANIFEST'),
      `mlvc-manifest 1\n../../escape.bin\t${line.split('\t').slice(1).join('\t')}\n`,
    )
    writeFileSync(spec, good.replace('version: 1', 'version: 2'))
    await ada.git(repo, 'commit', '-qam', 'evil')
    await ada.git(repo, 'tag', 'bad__2')
    const evil = await ada.mlvc(repo, 'dataset', 'checkout', 'bad__2', '--force')
    expect(evil.code).toBe(1)
    expect(evil.stderr).toContain('path "../../escape.bin" has a ".." segment')
    expect(existsSync(join(repo, 'escape.bin'))).toBe(false)
    expect(existsSync(join(root, 'escape.bin'))).toBe(false)
    await ok(ada, repo, 'dataset', 'checkout', 'bad@1', '--force')

    // Strict: a committed file never changes.
    writeFileSync(join(dir, 'part-0/img-0000.bin'), 'edited', { flag: 'w' })
    const strict = await ada.mlvc(repo, 'dataset', 'add', 'bad')
    expect(strict.code).toBe(2)
    expect(strict.stderr).toContain('part-0/img-0000.bin: changed, but dataset bad is strict')
    await ok(ada, repo, 'dataset', 'checkout', 'bad@1', '--force')

    const missing = await ada.mlvc(repo, 'dataset', 'checkout', 'bad__7')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no dataset version tagged bad__7')
    const range = await ada.mlvc(
      repo,
      'dataset',
      'checkout',
      'bad@1',
      '--sample-type',
      'range:20:30',
    )
    expect(range.code).toBe(2)
    expect(range.stderr).toContain('START 20 is out of range: the version has 12 files')
    expect(readFolder(dir).size).toBe(12)

    // Another commit of the entity is running (its lock is held by a live process: this one).
    writeFileSync(join(dir, 'extra.bin'), 'x')
    await ok(ada, repo, 'dataset', 'add', 'bad')
    const head = await ada.git(repo, 'rev-parse', 'HEAD')
    writeFileSync(
      join(repo, '.git/mlvc-entities/dataset/bad/lock'),
      `${process.pid} ${(await import('node:os')).hostname()}\n`,
    )
    const locked = await ada.mlvc(repo, 'dataset', 'commit', 'bad')
    expect(locked.code).toBe(1)
    expect(locked.stderr).toContain(`dataset bad is locked by process ${process.pid}`)
    expect(await ada.git(repo, 'rev-parse', 'HEAD')).toBe(head)
    expect(readFileSync(spec, 'utf8')).toContain('version: 1')
    rmSync(join(repo, '.git/mlvc-entities/dataset/bad/lock'))
    expect((await json<{ version: number }>(ada, repo, 'dataset', 'commit', 'bad')).version).toBe(3)
  })

  test('Ctrl-C during add stages nothing; during checkout leaves a mark, and running it again finishes it', async () => {
    const repo = await newRepo(ada, 'sigint')
    await ok(ada, repo, 'dataset', 'init', 'big', '--mutability', 'flexible')
    const dir = join(repo, 'dataset/big')
    const files = writeDataset(dir, 200, 5)
    // One large file keeps add and checkout busy after the first pack (or the cache) appears, so
    // the signal lands while they run even on an idle machine.
    const large = randomBytes(96 * 1024 * 1024)
    writeFileSync(join(dir, 'part-0/large.bin'), large)
    const packs = join(repo, '.git/mlvc/packs')
    const add = await interruptWhen(
      process.execPath,
      [CLI, 'dataset', 'add', 'big'],
      { cwd: repo, env: ada.env },
      () => existsSync(packs) && readdirSync(packs).some((f) => f.endsWith('.pack')),
    )
    expect(add.interrupted).toBe(true)
    expect(add.stderr).toContain('interrupted')
    const after = await json<Status>(ada, repo, 'dataset', 'status', 'big')
    expect(after.staged.added).toEqual([])
    expect(after.unstaged.untracked).toHaveLength(201)
    expect((await ada.mlvc(repo, 'fsck')).code).toBe(0)
    await ok(ada, repo, 'dataset', 'add', 'big')
    await ok(ada, repo, 'dataset', 'commit', 'big')

    rmSync(join(repo, '.git/mlvc-entities/cache'), { recursive: true, force: true })
    rmSync(join(dir, 'part-0'), { recursive: true })
    rmSync(join(dir, 'part-1'), { recursive: true })
    const cache = join(repo, '.git/mlvc-entities/cache')
    const checkout = await interruptWhen(
      process.execPath,
      [CLI, 'dataset', 'checkout', 'big', '--force'],
      { cwd: repo, env: ada.env },
      () => existsSync(cache),
    )
    expect(checkout.interrupted).toBe(true)
    const pending = await json<Status>(ada, repo, 'dataset', 'status', 'big')
    expect(pending.pending).toBe('big__1')
    const finished = await json<{ selected: number }>(ada, repo, 'dataset', 'checkout', 'big')
    expect(finished.selected).toBe(201)
    // The large file by its hash: a deep comparison of 96 MiB would take minutes.
    const got = readFolder(dir)
    expect(got.get('part-0/large.bin')?.equals(large)).toBe(true)
    got.delete('part-0/large.bin')
    expect(got).toEqual(files)
    expect((await json<Status>(ada, repo, 'dataset', 'status', 'big')).pending).toBeNull()
  })

  test('a file that changes while add reads it is refused by name; nothing is staged', async () => {
    const repo = await newRepo(ada, 'changing')
    await ok(ada, repo, 'dataset', 'init', 'moving')
    const dir = join(repo, 'dataset/moving')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'small.txt'), 'steady\n')
    // Large enough that add is still reading it when its first pack appears.
    writeFileSync(join(dir, 'growing.bin'), randomBytes(96 * 1024 * 1024))
    const packs = join(repo, '.git/mlvc/packs')
    const add = await pauseWhen(
      process.execPath,
      [CLI, 'dataset', 'add', 'moving'],
      { cwd: repo, env: ada.env },
      () => existsSync(packs) && readdirSync(packs).some((f) => f.endsWith('.pack')),
      // Another program appends to the file while add is stopped halfway through it.
      () => appendFileSync(join(dir, 'growing.bin'), 'more rows\n'),
    )
    expect(add.paused).toBe(true)
    expect(add.stderr).toContain('growing.bin changed while it was being added')
    const status = await json<Status>(ada, repo, 'dataset', 'status', 'moving')
    expect(status.staged.added).toEqual([])
    expect((await ada.mlvc(repo, 'fsck')).code).toBe(0)
    // Once the writer is done, add stages both files.
    await ok(ada, repo, 'dataset', 'add', 'moving')
    const staged = await json<Status>(ada, repo, 'dataset', 'status', 'moving')
    expect(staged.staged.added.toSorted()).toEqual(['growing.bin', 'small.txt'])
  })

  test('a tag that cannot be made after the commit: the commit stands, work tree and HEAD agree, the error says how to tag', async () => {
    const repo = await newRepo(ada, 'untagged')
    await ok(ada, repo, 'dataset', 'init', 'notes')
    const dir = join(repo, 'dataset/notes')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'a.txt'), 'a\n')
    await ok(ada, repo, 'dataset', 'add', 'notes')
    // Another git process holds the tag's ref lock: `git tag` fails after the commit succeeded.
    const lock = join(repo, '.git/refs/tags/notes__1.lock')
    mkdirSync(join(repo, '.git/refs/tags'), { recursive: true })
    writeFileSync(lock, '')
    const failed = await ada.mlvc(repo, 'dataset', 'commit', 'notes')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(
      /dataset notes version 1 is committed \([0-9a-f]{12}\) but its tag notes__1 could not be made/,
    )
    const head = (await ada.git(repo, 'rev-parse', 'HEAD')).trim()
    expect(failed.stderr).toContain(`git tag notes__1 ${head}`)
    // The work tree is the commit: nothing modified, the spec at version 1.
    expect(await ada.git(repo, 'status', '--porcelain')).toBe('')
    expect(readFileSync(join(dir, 'notes.spec'), 'utf8')).toContain('version: 1')
    rmSync(lock)
    await ada.git(repo, 'tag', 'notes__1', head)
    expect((await json<Status>(ada, repo, 'dataset', 'status', 'notes')).staged.added).toEqual([])
    writeFileSync(join(dir, 'b.txt'), 'b\n')
    await ok(ada, repo, 'dataset', 'add', 'notes')
    expect((await json<{ tag: string }>(ada, repo, 'dataset', 'commit', 'notes')).tag).toBe(
      'notes__2',
    )
  })
})
