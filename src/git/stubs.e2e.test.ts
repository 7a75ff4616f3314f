import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { openStore, parseId } from '../store/index.ts'
import { commitRaw, type GitSandbox, gitSandbox, mlvcRepo, stageBlob } from '../test-helpers/git.ts'
import { damageFile, onlyPack, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'

// Hand-edited, malformed and lying stubs, and a damaged local store, through real git.

const MiB = 1024 * 1024
const root = tempDir('mlvc-stubs')
const user = gitSandbox(root, 'ada')
const SIGNATURE = '# mlvc stub v1'
let n = 0

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
const fileSha = (path: string) => sha(readFileSync(path))
const count = (text: string, part: string) => text.split(part).length - 1

/** A repository with a bare Git remote and an mlvc folder remote; `files` committed and pushed. */
async function pushedRepo(files: Record<string, number>) {
  const dir = join(root, `repo-${n++}`)
  const remote = join(root, `remote-${n++}`)
  const bare = join(root, `bare-${n++}.git`)
  await mlvcRepo(user, dir, remote)
  await user.git(root, 'init', '-q', '--bare', bare)
  await user.git(dir, 'remote', 'add', 'origin', bare)
  const data: Record<string, Buffer> = {}
  for (const [i, [path, size]] of Object.entries(files).entries()) {
    data[path] = pseudoRandomBytes(size, 1000 + n + i)
    writeFileSync(join(dir, path), data[path] as Buffer)
  }
  await user.git(dir, 'add', '.')
  await user.git(dir, 'commit', '-qm', 'files')
  await user.git(dir, 'push', '-q', 'origin', 'main')
  return { dir, remote, bare, data }
}

async function stubOf(dir: string, path: string): Promise<string> {
  return user.git(dir, 'show', `HEAD:${path}`)
}

async function clone(bare: string, who: GitSandbox = user) {
  const dir = join(root, `clone-${n++}`)
  const result = await who.gitResult(root, 'clone', '-q', bare, dir)
  return { dir, ...result }
}

beforeAll(async () => {
  const install = await user.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

describe("a stub's size and sha256 are checked against the content its id names", () => {
  test('checkout, pull and fsck reject a lying stub, naming the file and the mismatch; git add refuses one', async () => {
    const { dir, bare, data } = await pushedRepo({
      'a.bin': 2048,
      'c.bin': 1000,
      'big.bin': 5 * MiB,
      'other.bin': 6 * MiB,
    })
    const a = await stubOf(dir, 'a.bin')
    const c = await stubOf(dir, 'c.bin')
    const big = await stubOf(dir, 'big.bin')
    const idLine = (stub: string) => /^id: .*$/m.exec(stub)?.[0] as string
    const sizeLine = (stub: string) => /^size: .*$/m.exec(stub)?.[0] as string
    const shaLine = (stub: string) => /^sha256: .*$/m.exec(stub)?.[0] as string
    // c.bin's stub naming a.bin's content (smudged inline); other.bin's naming big.bin's (written
    // after git's checkout); a wrong size alone; a wrong sha256 alone.
    await stageBlob(user, dir, 'c.bin', c.replace(idLine(c), idLine(a)))
    const other = await stubOf(dir, 'other.bin')
    await stageBlob(user, dir, 'other.bin', other.replace(idLine(other), idLine(big)))
    await stageBlob(user, dir, 'size.bin', a.replace(sizeLine(a), 'size: 2047'))
    await stageBlob(user, dir, 'sha.bin', a.replace(shaLine(a), shaLine(c)))
    await user.git(dir, 'commit', '-qm', 'lying stubs')
    await user.git(dir, 'push', '-q', 'origin', 'main')

    const cloned = await clone(bare)
    expect(cloned.code, cloned.stderr).toBe(0)
    expect(cloned.stderr).toContain(
      'mlvc: c.bin: stub says size 1000 but its content id names 2048 bytes; stub says sha256 ',
    )
    expect(cloned.stderr).toContain(
      'mlvc: size.bin: stub says size 2047 but its content id names 2048 bytes;',
    )
    expect(cloned.stderr).toMatch(
      /mlvc: sha\.bin: stub says sha256 \w+ but its content id names content with sha256 \w+;/,
    )
    expect(cloned.stderr).toMatch(
      /mlvc: other\.bin: stub says size 6291456 but its content id names 5242880 bytes/,
    )
    for (const path of ['c.bin', 'other.bin', 'size.bin', 'sha.bin'])
      expect(readFileSync(join(cloned.dir, path), 'utf8').startsWith(SIGNATURE), path).toBe(true)
    expect(fileSha(join(cloned.dir, 'a.bin'))).toBe(sha(data['a.bin'] as Buffer))
    expect(fileSha(join(cloned.dir, 'big.bin'))).toBe(sha(data['big.bin'] as Buffer))
    expect(await user.git(cloned.dir, 'status', '--porcelain')).toBe('')

    const fsck = await user.mlvc(cloned.dir, 'fsck')
    expect(fsck.code).toBe(1)
    expect(fsck.stdout).toMatch(
      /^stub-mismatch: c\.bin \(HEAD, index\): stub says size 1000 but its content id names 2048 bytes/m,
    )
    expect(fsck.stdout).toMatch(
      /^stub-mismatch: other\.bin \(HEAD, index\): stub says size 6291456/m,
    )
    expect(fsck.stdout).toMatch(/^stub-mismatch: size\.bin \(HEAD, index\): /m)
    expect(fsck.stdout).toMatch(/^stub-mismatch: sha\.bin \(HEAD, index\): /m)
    expect(fsck.stdout).toMatch(/^4 problems \(4 stub-mismatch\): /m)

    const pull = await user.mlvc(cloned.dir, 'pull')
    expect(pull.code).toBe(1)
    expect(pull.stderr).toContain(
      'mlvc: c.bin: stub says size 1000 but its content id names 2048 bytes',
    )
    expect(readFileSync(join(cloned.dir, 'c.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)

    // git add: a stub the user wrote by hand is refused, not taken as the file.
    writeFileSync(
      join(dir, 'new.bin'),
      c.replace(idLine(c), idLine(a)).replace('size: 1000', 'size: 999'),
    )
    const add = await user.gitResult(dir, 'add', 'new.bin')
    expect(add.code).not.toBe(0)
    expect(add.stderr).toContain(
      'mlvc: new.bin: stub says size 999 but its content id names 2048 bytes',
    )
  })
})

describe('one unusable stub never stops the others', () => {
  test('clone checks out every other file; pull writes them; fsck lists every bad stub; git push refuses them', async () => {
    const { dir, bare, data } = await pushedRepo({ 'big.bin': 5 * MiB, 'small.pt': MiB })
    const small = await stubOf(dir, 'small.pt')
    const banana = small.replace(/^size: .*$/m, 'size: banana')
    const future = small.replace('stub v1', 'stub v9')
    await stageBlob(user, dir, 'banana.bin', banana)
    await stageBlob(user, dir, 'v9.bin', future)
    await user.git(dir, 'commit', '-qm', 'bad stubs')
    const push = await user.gitResult(dir, 'push', '-q', 'origin', 'main')
    expect(push.code).not.toBe(0)
    expect(push.stderr).toContain(
      'mlvc: banana.bin: malformed mlvc stub (size "banana" is not a byte count) (and 1 more: v9.bin)',
    )
    await user.git(dir, 'push', '-q', '--no-verify', 'origin', 'main')

    const cloned = await clone(bare)
    expect(cloned.code, cloned.stderr).toBe(0)
    expect(
      count(
        cloned.stderr,
        'mlvc: banana.bin: malformed mlvc stub (size "banana" is not a byte count); left as it is in the work tree',
      ),
    ).toBe(1)
    expect(
      count(
        cloned.stderr,
        'mlvc: v9.bin: written by a newer mlvc (stub v9; this mlvc reads v1); left as it is',
      ),
    ).toBe(1)
    expect(fileSha(join(cloned.dir, 'big.bin'))).toBe(sha(data['big.bin'] as Buffer))
    expect(fileSha(join(cloned.dir, 'small.pt'))).toBe(sha(data['small.pt'] as Buffer))
    expect(readFileSync(join(cloned.dir, 'banana.bin'), 'utf8')).toBe(banana)
    expect(readFileSync(join(cloned.dir, 'v9.bin'), 'utf8')).toBe(future)
    expect(await user.git(cloned.dir, 'status', '--porcelain')).toBe('')
    // Git cleans the stubs left in place again (touched files): they clean to themselves.
    const { utimesSync } = await import('node:fs')
    const later = new Date(Date.now() + 5000)
    for (const f of ['banana.bin', 'v9.bin']) utimesSync(join(cloned.dir, f), later, later)
    expect(await user.git(cloned.dir, 'status', '--porcelain')).toBe('')

    const fsck = await user.mlvc(cloned.dir, 'fsck')
    expect(fsck.code).toBe(1)
    expect(fsck.stdout).toContain(
      'bad-stub: banana.bin (HEAD, index): malformed mlvc stub (size "banana" is not a byte count)\n',
    )
    expect(fsck.stdout).toContain(
      'bad-stub: v9.bin (HEAD, index): written by a newer mlvc (stub v9; this mlvc reads v1)\n',
    )
    expect(fsck.stdout).toMatch(/^2 problems \(2 bad-stub\): /m)

    // A clone made without mlvc keeps stubs; mlvc pull writes the good ones and names the bad.
    const bob = gitSandbox(root, `bob-${n++}`)
    const plain = await clone(bare, bob)
    expect((await bob.mlvc(plain.dir, 'install', '--local')).code).toBe(0)
    const pull = await bob.mlvc(plain.dir, 'pull')
    expect(pull.code, pull.stderr).toBe(1)
    expect(pull.stdout, pull.stderr).toMatch(/wrote 2 files; 2 files not written/)
    expect(pull.stderr).toContain(
      'mlvc: banana.bin: malformed mlvc stub (size "banana" is not a byte count); left as it is',
    )
    expect(pull.stderr).toContain('mlvc: v9.bin: written by a newer mlvc')
    expect(fileSha(join(plain.dir, 'big.bin'))).toBe(sha(data['big.bin'] as Buffer))
    expect(fileSha(join(plain.dir, 'small.pt'))).toBe(sha(data['small.pt'] as Buffer))

    // git.missingIsError: true makes an unusable stub fail its checkout, as missing content does.
    writeFileSync(join(cloned.dir, '.mlvc/config.local.yaml'), 'git:\n  missingIsError: true\n')
    rmSync(join(cloned.dir, 'banana.bin'))
    const strict = await user.gitResult(cloned.dir, 'checkout', '--', 'banana.bin')
    expect(strict.code).not.toBe(0)
    expect(strict.stderr).toContain(
      'banana.bin: malformed mlvc stub (size "banana" is not a byte count)',
    )
  })

  test('the merge driver names the side whose stub is malformed, and why', async () => {
    const { dir } = await pushedRepo({ 'b.bin': MiB })
    await user.git(dir, 'checkout', '-qb', 'theirs')
    const stub = await stubOf(dir, 'b.bin')
    await stageBlob(user, dir, 'b.bin', stub.replace(/^size: .*$/m, 'size: banana'))
    await user.git(dir, 'commit', '-qm', 'theirs')
    await user.git(dir, 'checkout', '-q', '-f', 'main')
    writeFileSync(join(dir, 'b.bin'), pseudoRandomBytes(MiB, 77))
    await user.git(dir, 'commit', '-qam', 'ours')
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'theirs')
    expect(merge.code).toBe(1)
    expect(merge.stderr).toContain(
      'mlvc: conflict in b.bin: their side: malformed mlvc stub (size "banana" is not a byte count); the work tree has our version.',
    )
    expect(merge.stderr).not.toContain('both sides changed it')
  })
})

describe('a damaged local store', () => {
  test('checkout names the chunk, pack and offset; fetch, pull and fsck --repair replace it from the remote', async () => {
    const { dir, remote, data } = await pushedRepo({ 'model.bin': 6 * MiB, 'small.pt': MiB })
    const store = join(dir, '.git', 'mlvc')
    const pack = onlyPack(store)
    const stashed = `${remote}.away`
    // No remote reachable: the file stays a stub, and the warning says what is damaged and what to do.
    damageFile(pack, 3 * MiB)
    renameSync(remote, stashed)
    rmSync(join(dir, 'model.bin'))
    const checkout = await user.gitResult(dir, 'checkout', '--', 'model.bin')
    expect(checkout.code, checkout.stderr).toBe(0)
    expect(checkout.stderr).toMatch(
      /mlvc: model\.bin: could not write its content: reconstructed bytes do not match \w+: chunk \w+ at offset \d+ of pack pack-[\w-]+ is damaged: its bytes do not match its id; run `mlvc fsck --repair`, then `mlvc pull`/,
    )
    expect(readFileSync(join(dir, 'model.bin'), 'utf8').startsWith(SIGNATURE)).toBe(true)
    const fsck = await user.mlvc(dir, 'fsck')
    expect(fsck.code).toBe(1)
    expect(
      count(
        fsck.stdout,
        'is damaged: its bytes do not match its id (needed by model.bin (HEAD, index))',
      ),
    ).toBe(1)
    expect(fsck.stdout).toMatch(/^1 problem \(1 corrupt\): /m)
    expect(fsck.stdout).not.toContain('missing')

    // The remote is back: mlvc fetch replaces what the failed read recorded as damaged.
    renameSync(stashed, remote)
    const fetched = await user.mlvc(dir, 'fetch', 'origin')
    expect(fetched.code, fetched.stderr).toBe(0)
    expect(fetched.stdout).toContain('; replaced 1 damaged\n')
    const pull = await user.mlvc(dir, 'pull')
    expect(pull.code, pull.stderr).toBe(0)
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(data['model.bin'] as Buffer))
    expect((await user.mlvc(dir, 'fsck')).code).toBe(0)

    // Damage nobody has read yet: pull finds it when it writes the file, fetches it and writes again.
    damageFile(pack, 2 * MiB)
    writeFileSync(join(dir, 'model.bin'), await stubOf(dir, 'model.bin'))
    const again = await user.mlvc(dir, 'pull')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/wrote 1 files; replaced 1 damaged objects/)
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(data['model.bin'] as Buffer))

    // fsck --repair: damage in the small file, found by fsck, replaced from the remote.
    damageFile(pack, 7 * MiB - 100)
    const found = await user.mlvc(dir, 'fsck')
    expect(found.stdout).toMatch(
      /^corrupt: chunk \w+ at offset \d+ of pack .*\(needed by small\.pt \(HEAD, index\)\)$/m,
    )
    const repair = await user.mlvc(dir, 'fsck', '--repair')
    expect(repair.code, repair.stdout + repair.stderr).toBe(0)
    expect(repair.stdout).toContain('repaired 1 of 1 problems in the store from remote origin')
    expect((await user.mlvc(dir, 'fsck')).code).toBe(0)
    rmSync(join(dir, 'small.pt'))
    await user.git(dir, 'checkout', '--', 'small.pt')
    expect(fileSha(join(dir, 'small.pt'))).toBe(sha(data['small.pt'] as Buffer))
    // Nothing good was lost: the damaged pack keeps its other objects, the good copies are new.
    expect(
      readdirSync(join(store, 'packs')).filter((f) => f.endsWith('.pack')).length,
    ).toBeGreaterThan(1)
    expect(existsSync(pack)).toBe(true)
  })

  test('a damaged checkout repairs itself when the remote is reachable', async () => {
    const { dir, data } = await pushedRepo({ 'model.bin': 6 * MiB, 'small.pt': MiB })
    const pack = onlyPack(join(dir, '.git', 'mlvc'))
    damageFile(pack, 3 * MiB)
    damageFile(pack, 7 * MiB - 100)
    // model.bin's manifest too: what the file is made of has to be fetched before the rest.
    const id = /\nid: (\w+)\n/.exec(await stubOf(dir, 'model.bin'))?.[1] ?? ''
    const store = await openStore(join(dir, '.git', 'mlvc'))
    const manifest = store.lookup(parseId(id).digest)
    await store.close()
    expect(manifest?.length).toBeGreaterThan(2)
    damageFile(pack, (manifest?.offset ?? 0) + 2)
    rmSync(join(dir, 'model.bin'))
    rmSync(join(dir, 'small.pt'))
    const checkout = await user.gitResult(dir, 'checkout', '--', '.')
    expect(checkout.code, checkout.stderr).toBe(0)
    expect(fileSha(join(dir, 'model.bin'))).toBe(sha(data['model.bin'] as Buffer))
    expect(fileSha(join(dir, 'small.pt'))).toBe(sha(data['small.pt'] as Buffer))
    expect((await user.mlvc(dir, 'fsck')).code).toBe(0)
  })

  test('fsck reports a raw commit and a missing object once each, with accurate labels', async () => {
    const { dir } = await pushedRepo({ 'model.bin': MiB })
    writeFileSync(join(dir, 'raw.bin'), pseudoRandomBytes(MiB, 5))
    await commitRaw(user, dir, 'raw.bin')
    for (const f of readdirSync(join(dir, '.git', 'mlvc', 'packs')))
      rmSync(join(dir, '.git', 'mlvc', 'packs', f))
    const fsck = await user.mlvc(dir, 'fsck')
    expect(fsck.code).toBe(1)
    const lines = fsck.stdout.trim().split('\n')
    expect(lines).toEqual([
      expect.stringMatching(
        /^missing: model\.bin \(HEAD, index\): object \w+ is missing from the local store \(mlvc pull fetches it\)$/,
      ),
      'raw-commit: raw.bin (HEAD, index): tracked by mlvc but committed raw (run mlvc install, then git add --renormalize .)',
      expect.stringMatching(/^2 problems \(1 missing, 1 raw-commit\): 0 objects/),
    ])
    expect(fsck.stdout).not.toContain('CORRUPT')
  })
})
