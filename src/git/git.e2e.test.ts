import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { commitRaw, gitSandbox, mlvcRepo } from '../test-helpers/git.ts'
import {
  CLI,
  interruptWhen,
  pseudoRandomBytes,
  runCommand,
  tempDir,
} from '../test-helpers/index.ts'

const MiB = 1024 * 1024
const root = tempDir('mlvc-git')
const user = gitSandbox(root, 'ada')
const SIGNATURE = '# mlvc stub v1'
let n = 0

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
const fileSha = (path: string) => sha(readFileSync(path))

/** A repository with mlvc installed (globally for the sandbox user), *.bin and *.pt tracked, a remote. */
async function newRepo(): Promise<{ dir: string; remote: string }> {
  const dir = join(root, `repo-${n++}`)
  const remote = join(root, `remote-${n++}`)
  await mlvcRepo(user, dir, remote)
  return { dir, remote }
}

function writeModel(path: string, size: number, seed: number): Buffer {
  const data = pseudoRandomBytes(size, seed)
  writeFileSync(path, data)
  return data
}

async function expectClean(dir: string): Promise<void> {
  expect(await user.git(dir, 'status', '--porcelain')).toBe('')
}

beforeAll(async () => {
  const install = await user.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

describe('plain git on tracked files', () => {
  test('add and commit store a stub; the work tree keeps the bytes; status stays clean', async () => {
    const { dir } = await newRepo()
    const big = writeModel(join(dir, 'model.bin'), 6 * MiB, 1)
    // An hour old: its stat-cache entry is trusted at once (not racy), as on a loaded machine
    // where git add runs more than two seconds after the write.
    const old = new Date(Date.now() - 3_600_000)
    utimesSync(join(dir, 'model.bin'), old, old)
    await user.git(dir, 'add', 'model.bin')
    await user.git(dir, 'commit', '-qm', 'model')
    const stored = await user.git(dir, 'show', 'HEAD:model.bin')
    expect(stored.startsWith(SIGNATURE)).toBe(true)
    expect(stored).toContain(`sha256: ${sha(big)}`)
    expect(Buffer.byteLength(stored)).toBeLessThan(400)
    await expectClean(dir)
    // Clean is idempotent: a stub added as content stays the same stub.
    const hashed = await runCommand('git', ['hash-object', '--path=model.bin', '--stdin'], {
      cwd: dir,
      env: user.env,
      input: stored,
    })
    const hash = hashed.stdout.trim()
    expect(hash).toBe((await user.git(dir, 'rev-parse', 'HEAD:model.bin')).trim())
    // Bytes with no file behind them are stored too.
    const loose = await runCommand('git', ['hash-object', '-w', '--path=absent.bin', '--stdin'], {
      cwd: dir,
      env: user.env,
      input: 'not a file in the work tree',
    })
    expect(loose.code, loose.stderr).toBe(0)
    const looseStub = await user.git(dir, 'cat-file', '-p', loose.stdout.trim())
    expect(looseStub).toMatch(/^# mlvc stub v1/)
    expect(looseStub).toContain('size: 27\n')
  })

  test('branches, checkout, reset, stash, cherry-pick, rebase: the work tree always matches', async () => {
    const { dir } = await newRepo()
    const v1 = writeModel(join(dir, 'model.bin'), 6 * MiB, 2)
    const small1 = writeModel(join(dir, 'head.pt'), MiB, 3)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'v1')
    await user.git(dir, 'checkout', '-qb', 'finetune')
    const v2 = writeModel(join(dir, 'model.bin'), 6 * MiB, 4)
    await user.git(dir, 'commit', '-qam', 'v2')
    await user.git(dir, 'checkout', '-q', 'main')
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(v1))
    await expectClean(dir)
    await user.git(dir, 'checkout', '-q', 'finetune')
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(v2))
    await expectClean(dir)

    writeModel(join(dir, 'model.bin'), 6 * MiB, 5)
    await user.git(dir, 'reset', '-q', '--hard')
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(v2))
    await expectClean(dir)

    const wip = writeModel(join(dir, 'head.pt'), MiB, 6)
    await user.git(dir, 'stash', '-q')
    expect(fileSha(join(dir, 'head.pt'))).toBe(sha(small1))
    await user.git(dir, 'stash', 'pop', '-q')
    expect(fileSha(join(dir, 'head.pt'))).toBe(sha(wip))
    await user.git(dir, 'checkout', '-q', '--', 'head.pt')

    await user.git(dir, 'checkout', '-q', 'main')
    const other = writeModel(join(dir, 'other.bin'), 5 * MiB, 7)
    await user.git(dir, 'add', 'other.bin')
    await user.git(dir, 'commit', '-qm', 'other')
    const otherCommit = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
    await user.git(dir, 'checkout', '-q', 'finetune')
    await user.git(dir, 'cherry-pick', otherCommit)
    expect(fileSha(join(dir, 'other.bin'))).toBe(sha(other))
    await user.git(dir, 'reset', '-q', '--hard', 'HEAD~1')
    expect(existsSync(join(dir, 'other.bin'))).toBe(false)
    await user.git(dir, 'rebase', '-q', 'main')
    expect(fileSha(join(dir, 'other.bin'))).toBe(sha(other))
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(v2))
    await expectClean(dir)
  })

  test('merges: disjoint changes merge; the same file changed on both sides is a clear conflict', async () => {
    const { dir } = await newRepo()
    writeModel(join(dir, 'a.bin'), 5 * MiB, 10)
    writeModel(join(dir, 'b.bin'), MiB, 11)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'base')
    await user.git(dir, 'checkout', '-qb', 'left')
    const a2 = writeModel(join(dir, 'a.bin'), 5 * MiB, 12)
    await user.git(dir, 'commit', '-qam', 'left')
    await user.git(dir, 'checkout', '-qb', 'right', 'main')
    const b2 = writeModel(join(dir, 'b.bin'), MiB, 13)
    await user.git(dir, 'commit', '-qam', 'right')
    await user.git(dir, 'merge', '-q', '--no-edit', 'left')
    expect(fileSha(join(dir, 'a.bin'))).toBe(sha(a2))
    expect(fileSha(join(dir, 'b.bin'))).toBe(sha(b2))
    await expectClean(dir)

    await user.git(dir, 'checkout', '-qb', 'conflict-a', 'main')
    const ours = writeModel(join(dir, 'b.bin'), MiB, 14)
    await user.git(dir, 'commit', '-qam', 'ours')
    await user.git(dir, 'checkout', '-qb', 'conflict-b', 'main')
    const theirs = writeModel(join(dir, 'b.bin'), MiB, 15)
    await user.git(dir, 'commit', '-qam', 'theirs')
    await user.git(dir, 'checkout', '-q', 'conflict-a')
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'conflict-b')
    expect(merge.code).toBe(1)
    expect(merge.stderr + merge.stdout).toContain('mlvc: conflict in b.bin: both sides changed it')
    expect(await user.git(dir, 'status', '--porcelain')).toBe('UU b.bin\n')
    expect(fileSha(join(dir, 'b.bin'))).toBe(sha(ours))
    await user.git(dir, 'checkout', '--theirs', '--', 'b.bin')
    expect(fileSha(join(dir, 'b.bin'))).toBe(sha(theirs))
    await user.git(dir, 'add', 'b.bin')
    await user.git(dir, 'commit', '-qm', 'take theirs')
    await expectClean(dir)
  })

  test('paths with spaces and non-ASCII characters; worktrees share one store', async () => {
    const { dir } = await newRepo()
    mkdirSync(join(dir, 'checkpoints été'))
    const data = writeModel(join(dir, 'checkpoints été', 'modèle final.bin'), 5 * MiB, 20)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'unicode')
    await expectClean(dir)
    const wt = join(root, `worktree-${n++}`)
    await user.git(dir, 'worktree', 'add', '-q', wt)
    expect(fileSha(join(wt, 'checkpoints été', 'modèle final.bin'))).toBe(sha(data))
    expect(existsSync(join(wt, '.git'))).toBe(true)
    expect(readdirSync(join(dir, '.git'))).toContain('mlvc')
    expect(statSync(join(wt, '.git')).isFile()).toBe(true)
    await expectClean(wt)
  })

  test('touch does not make a file modified', async () => {
    const { dir } = await newRepo()
    writeModel(join(dir, 'model.bin'), 6 * MiB, 30)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'm')
    const future = new Date(Date.now() + 5000)
    utimesSync(join(dir, 'model.bin'), future, future)
    await expectClean(dir)
  })
})

describe('remotes, clones and pushes', () => {
  test('git push uploads through the hook; a clone materializes every file; pull in a second clone', async () => {
    const { dir, remote } = await newRepo()
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    const big = writeModel(join(dir, 'model.bin'), 6 * MiB, 40)
    const small = writeModel(join(dir, 'small.pt'), MiB, 41)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'models')
    const push = await user.gitResult(dir, 'push', '-q', 'origin', 'main')
    expect(push.code, push.stderr).toBe(0)
    expect(push.stderr).toMatch(/mlvc: pushed \d+ objects .* to origin/)
    expect(readdirSync(join(remote, 'packs')).some((f) => f.endsWith('.idx'))).toBe(true)

    const clone = join(root, `clone-${n++}`)
    await user.git(root, 'clone', '-q', bare, clone)
    expect(fileSha(join(clone, 'model.bin'))).toBe(sha(big))
    expect(fileSha(join(clone, 'small.pt'))).toBe(sha(small))
    await expectClean(clone)

    const v2 = writeModel(join(clone, 'model.bin'), 6 * MiB, 42)
    await user.git(clone, 'commit', '-qam', 'v2')
    await user.git(clone, 'push', '-q', 'origin', 'main')
    await user.git(dir, 'pull', '-q', 'origin', 'main')
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(v2))
    await expectClean(dir)
  })

  test('a clone without mlvc installed keeps stubs; mlvc install && mlvc pull fixes it', async () => {
    const { dir } = await newRepo()
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    const data = writeModel(join(dir, 'model.bin'), 6 * MiB, 50)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'model')
    await user.git(dir, 'push', '-q', 'origin', 'main')

    const bob = gitSandbox(root, `bob-${n++}`)
    const clone = join(root, `bob-clone-${n++}`)
    await bob.git(root, 'clone', '-q', bare, clone)
    expect(readFileSync(join(clone, 'model.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)
    const status = await bob.mlvc(clone, 'status')
    expect(status.stderr).toContain('mlvc is not installed for this repository')
    expect(status.stdout).toMatch(/^stub, not in local store .* model\.bin$/m)
    // Without the filter a tracked file would be committed raw: the pre-push check refuses it.
    expect((await bob.mlvc(clone, 'install', '--local')).code).toBe(0)
    const pull = await bob.mlvc(clone, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    expect(fileSha(join(clone, 'model.bin'))).toBe(sha(data))
    await bob.git(clone, 'status', '--porcelain').then((s) => expect(s).toBe(''))
  })

  test('the pre-push hook takes 100,000 refs in one push (git push --tags)', async () => {
    const { dir } = await newRepo()
    const base = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
    writeModel(join(dir, 'model.bin'), MiB, 70)
    await user.git(dir, 'add', 'model.bin')
    await user.git(dir, 'commit', '-qm', 'model')
    const head = (await user.git(dir, 'rev-parse', 'HEAD')).trim()
    const zero = '0'.repeat(40)
    // What git writes on the hook's stdin: one line per ref; the remote's side is known for some.
    const remoteSide = (i: number) => (i % 1000 === 0 ? base : i === 1 ? 'f'.repeat(40) : zero)
    const lines = Array.from(
      { length: 100_000 },
      (_, i) => `refs/tags/t${i} ${head} refs/tags/t${i} ${remoteSide(i)}\n`,
    )
    const hook = await runCommand(process.execPath, [CLI, 'hook', 'pre-push', 'origin', 'url'], {
      cwd: dir,
      env: user.env,
      input: lines.join(''),
    })
    expect(hook.stderr).toMatch(/^mlvc: pushed \d+ objects .* to origin/)
    expect(hook.code).toBe(0)
    const status = await user.mlvc(dir, 'status')
    expect(status.stdout).toMatch(/^materialized +1\.0 MiB {2}model\.bin$/m)
  })

  test('a file committed raw (no filter) is detected, and git push refuses to publish it', async () => {
    const { dir } = await newRepo()
    // mlvc init and track install the hook: no filter has run here yet (the raw commit skips it).
    expect(readFileSync(join(dir, '.git/hooks/pre-push'), 'utf8')).toContain('# mlvc hook')
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    writeModel(join(dir, 'raw.bin'), MiB, 60)
    await commitRaw(user, dir, 'raw.bin')
    const status = await user.mlvc(dir, 'status')
    expect(status.code).toBe(1)
    expect(status.stdout).toMatch(/committed raw .*raw\.bin/)
    const push = await user.gitResult(dir, 'push', 'origin', 'main')
    expect(push.code, push.stderr).not.toBe(0)
    expect(push.stderr).toContain('raw.bin: tracked by mlvc but committed raw')
  })
})

describe('bad input', () => {
  test('content missing everywhere: the stub stays with a one-line warning naming the file', async () => {
    const { dir } = await newRepo()
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    writeModel(join(dir, 'model.bin'), 6 * MiB, 70)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'm')
    await user.git(dir, 'push', '-q', '--no-verify', 'origin', 'main')
    const clone = join(root, `clone-${n++}`)
    const result = await user.gitResult(root, 'clone', '-q', bare, clone)
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /mlvc: model\.bin: its content \(\w+\) is not in the local store and could not be fetched; left as a stub/,
    )
    expect(readFileSync(join(clone, 'model.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)
    expect(await user.git(clone, 'status', '--porcelain')).toBe('')
  })

  test('the remote folder disappears: push fails naming the remote, the repository stays usable', async () => {
    const { dir, remote } = await newRepo()
    writeModel(join(dir, 'model.bin'), 6 * MiB, 90)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'm')
    writeFileSync(remote, 'not a folder')
    const push = await user.mlvc(dir, 'push')
    expect(push.code).toBe(1)
    expect(push.stderr.split('\n')[0]).toMatch(/^mlvc: .*remote origin/)
    rmSync(remote)
    expect((await user.mlvc(dir, 'push')).code).toBe(0)
    await expectClean(dir)
    expect((await user.mlvc(dir, 'fsck')).code).toBe(0)
  })
})

describe('a damaged remote, and Ctrl-C during a checkout', () => {
  test('a corrupt object on the remote: the clone keeps the stub and says which object and remote', async () => {
    const { dir, remote } = await newRepo()
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    writeModel(join(dir, 'model.bin'), 6 * MiB, 120)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'm')
    await user.git(dir, 'push', '-q', 'origin', 'main')
    const packs = join(remote, 'packs')
    const pack = join(packs, readdirSync(packs).find((f) => f.endsWith('.pack')) as string)
    const bytes = readFileSync(pack)
    bytes[3 * MiB] = (bytes[3 * MiB] as number) ^ 0x40
    writeFileSync(pack, bytes)
    const clone = join(root, `clone-${n++}`)
    const result = await user.gitResult(root, 'clone', '-q', bare, clone)
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /remote origin: object \w+ in packs\/pack-[\w-]+\.pack is corrupt/,
    )
    expect(readFileSync(join(clone, 'model.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)
    expect(await user.git(clone, 'status', '--porcelain')).toBe('')
    const fsck = await user.mlvc(clone, 'fsck')
    expect(fsck.code, fsck.stdout).toBe(1)
    expect(fsck.stdout).toMatch(
      /^missing: model\.bin \(HEAD, index\): \d+ of the objects that \w+ needs are missing from the local store \(mlvc pull fetches them\)$/m,
    )
  })

  test('Ctrl-C while a checkout writes a big file: stubs left consistent, mlvc pull finishes', async () => {
    const { dir } = await newRepo()
    const data = writeModel(join(dir, 'big.bin'), 300 * MiB, 130)
    await user.git(dir, 'add', 'big.bin')
    await user.git(dir, 'commit', '-qm', 'big')
    await user.git(dir, 'checkout', '-qb', 'empty')
    await user.git(dir, 'rm', '-q', 'big.bin')
    await user.git(dir, 'commit', '-qm', 'no big')
    const tmp = join(dir, '.git', 'mlvc-tmp')
    const { stderr } = await interruptWhen(
      'git',
      ['checkout', '-q', 'main'],
      { cwd: dir, env: user.env },
      () => existsSync(tmp) && readdirSync(tmp).length > 0,
    )
    expect(stderr).toContain(
      'mlvc: interrupted; left as stubs: big.bin. Run `mlvc pull` to finish.',
    )
    expect(readdirSync(tmp)).toEqual([])
    expect(readFileSync(join(dir, 'big.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)
    expect((await user.mlvc(dir, 'status')).stdout).toMatch(/^stub, .*big\.bin$/m)
    const pull = await user.mlvc(dir, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    expect(fileSha(join(dir, 'big.bin'))).toBe(sha(data))
    await expectClean(dir)
  })
})

describe('big files and interruptions', () => {
  test('checking out a 512 MiB file: no process holds it in memory (peak RSS under 400 MiB)', async () => {
    const { dir } = await newRepo()
    const data = writeModel(join(dir, 'big.bin'), 512 * MiB, 100)
    const digest = sha(data)
    await user.git(dir, 'add', 'big.bin')
    await user.git(dir, 'commit', '-qm', 'big')
    rmSync(join(dir, 'big.bin'))
    // GNU time's %M is the peak RSS of the largest process in the tree it waits for.
    const timed = await runCommand(
      '/usr/bin/time',
      ['-f', '%M', 'git', 'checkout', '--', 'big.bin'],
      { cwd: dir, env: user.env },
    )
    expect(timed.code, timed.stderr).toBe(0)
    const peakKiB = Number(timed.stderr.trim().split('\n').at(-1))
    expect(peakKiB).toBeGreaterThan(0)
    expect(peakKiB).toBeLessThan(400 * 1024)
    expect(fileSha(join(dir, 'big.bin'))).toBe(digest)
    await expectClean(dir)
  })

  test('an interrupted mlvc push, run again, sends only what is missing', async () => {
    const { dir, remote } = await newRepo()
    writeModel(join(dir, 'model.bin'), 150 * MiB, 110)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'm')
    const { spawn } = await import('node:child_process')
    const child = spawn(
      process.execPath,
      [(await import('../test-helpers/index.ts')).CLI, 'push'],
      { cwd: dir, env: user.env },
    )
    const exit = await new Promise<number | null>((resolve) => {
      const timer = setInterval(() => {
        const packs = existsSync(join(remote, 'packs')) ? readdirSync(join(remote, 'packs')) : []
        if (packs.some((f) => f.endsWith('.idx'))) {
          clearInterval(timer)
          child.kill('SIGINT')
        }
      }, 5)
      child.on('close', (code) => {
        clearInterval(timer)
        resolve(code)
      })
    })
    expect(exit).toBe(130)
    const again = await user.mlvc(dir, '--json', 'push')
    expect(again.code, again.stderr).toBe(0)
    const report = JSON.parse(again.stdout) as { present: number; uploadedBytes: number }
    expect(report.present).toBeGreaterThan(0)
    expect(report.uploadedBytes).toBeLessThan(120 * MiB)
  })
})

describe('every checkpoint format through real git', () => {
  test('track, commit, clone and check out every committed fixture byte for byte', async () => {
    const { readdirSync: list, copyFileSync } = await import('node:fs')
    const { ROOT } = await import('../test-helpers/index.ts')
    const { dir } = await newRepo()
    const bare = join(root, `bare-${n++}.git`)
    await user.git(root, 'init', '-q', '--bare', bare)
    await user.git(dir, 'remote', 'add', 'origin', bare)
    expect(
      (
        await user.mlvc(
          dir,
          'track',
          '*.safetensors',
          '*.pt',
          '*.onnx',
          '*.data',
          '*.gguf',
          '*.npy',
          '*.npz',
          '*.json',
        )
      ).code,
    ).toBe(0)
    const fixtures = join(ROOT, 'src/formats/fixtures')
    const copied: string[] = []
    for (const kind of list(fixtures, { withFileTypes: true })) {
      if (!kind.isDirectory()) continue
      mkdirSync(join(dir, kind.name), { recursive: true })
      for (const f of list(join(fixtures, kind.name), { withFileTypes: true })) {
        if (!f.isFile()) continue
        copyFileSync(join(fixtures, kind.name, f.name), join(dir, kind.name, f.name))
        copied.push(join(kind.name, f.name))
      }
    }
    expect(copied.length).toBeGreaterThan(20)
    await user.git(dir, 'add', '.')
    await user.git(dir, 'commit', '-qm', 'fixtures')
    const stub = await user.git(dir, 'show', 'HEAD:safetensors/meta.safetensors')
    expect(stub).toMatch(/^format: safetensors$/m)
    await user.git(dir, 'push', '-q', 'origin', 'main')
    const clone = join(root, `clone-${n++}`)
    await user.git(root, 'clone', '-q', bare, clone)
    for (const file of copied)
      expect(fileSha(join(clone, file)), file).toBe(fileSha(join(dir, file)))
    await expectClean(clone)
  })
})
