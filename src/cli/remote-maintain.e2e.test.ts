import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GitSandbox, gitSandbox } from '../test-helpers/git.ts'
import { pseudoRandomBytes, type S3Server, startRgw, tempDir } from '../test-helpers/index.ts'
import { s3Client, s3Users } from '../test-helpers/s3.ts'

const MiB = 1024 * 1024
const root = tempDir('mlvc-remote-maintain')
const ada = gitSandbox(root, 'ada')
const bob = gitSandbox(root, 'bob')
let server: S3Server
let s3: S3Client

/** The objects of one remote, seen from outside mlvc: list, read, write and delete by key. */
interface RemoteBytes {
  /** What `mlvc remote add origin` gets after the name. */
  args(): string[]
  keys(): Promise<string[]>
  read(key: string): Promise<Buffer>
  write(key: string, data: Buffer): Promise<void>
  remove(key: string): Promise<void>
}

function folderBytes(dir: string): RemoteBytes {
  const walk = (sub: string): string[] =>
    readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(sub, e.name)) : [join(sub, e.name)],
    )
  return {
    args: () => [dir],
    keys: async () => walk('').sort(),
    read: async (key) => readFileSync(join(dir, key)),
    write: async (key, data) => writeFileSync(join(dir, key), data),
    remove: async (key) => rmSync(join(dir, key)),
  }
}

function s3Bytes(prefix: string): RemoteBytes {
  const Bucket = 'maintained'
  return {
    args: () => [`s3://${Bucket}/${prefix}`, '--endpoint', server.endpoint],
    async keys() {
      const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/` }))
      return (out.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length + 1)).sort()
    },
    async read(key) {
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}/${key}` }))
      return Buffer.from((await out.Body?.transformToByteArray()) ?? [])
    },
    async write(key, data) {
      await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}/${key}`, Body: data }))
    },
    async remove(key) {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: `${prefix}/${key}` }))
    },
  }
}

beforeAll(async () => {
  server = await startRgw()
  await s3Users(server, [ada, bob], root)
  s3 = s3Client(server)
  await s3.send(new CreateBucketCommand({ Bucket: 'maintained' }))
})
afterAll(() => server?.stop())

async function ok(user: GitSandbox, cwd: string, ...args: string[]) {
  const result = await user.mlvc(cwd, ...args)
  expect(result.code, `mlvc ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result
}

/** Commits `data` as `path` on the current branch of `repo`. */
async function commitFile(repo: string, path: string, data: Buffer, message: string) {
  writeFileSync(join(repo, path), data)
  await ada.git(repo, 'add', path)
  await ada.git(repo, 'commit', '-qm', message)
}

const packs = async (bytes: RemoteBytes) =>
  (await bytes.keys()).filter((k) => k.startsWith('packs/') && k.endsWith('.pack'))

describe.each([
  ['a folder remote', (dir: string) => folderBytes(join(dir, 'remote'))],
  ['an S3 remote', (dir: string) => s3Bytes(dir.split('/').at(-1) ?? 'x')],
])('mlvc fsck --remote and mlvc gc --remote on %s', (_kind, makeBytes) => {
  const dir = join(root, _kind.replaceAll(' ', '-'))
  const bare = join(dir, 'shared.git')
  const repo = join(dir, 'ada')
  const bytes = makeBytes(dir)
  const v1 = pseudoRandomBytes(3 * MiB + 11, 11)
  const v2 = pseudoRandomBytes(3 * MiB + 22, 22)
  const kept = pseudoRandomBytes(2 * MiB + 33, 33)
  const scratch = pseudoRandomBytes(2 * MiB + 44, 44)

  test('set up: main (two versions) pushed with git, two branches pushed with mlvc only; fsck is clean', async () => {
    mkdirSync(dir, { recursive: true })
    await ada.git(dir, 'init', '-q', '--bare', bare)
    await ada.git(dir, 'clone', '-q', bare, repo)
    await ok(ada, repo, 'init')
    await ok(ada, repo, 'track', '*.bin')
    await ok(ada, repo, 'remote', 'add', 'origin', ...bytes.args())
    await ada.git(repo, 'add', '.gitattributes', '.mlvc')
    await ada.git(repo, 'commit', '-qm', 'track models')
    await commitFile(repo, 'model.bin', v1, 'v1')
    await commitFile(repo, 'model.bin', v2, 'v2')
    await ada.git(repo, 'push', '-q', 'origin', 'HEAD:main')
    for (const [branch, data] of [
      ['kept', kept],
      ['scratch', scratch],
    ] as const) {
      await ada.git(repo, 'checkout', '-q', '-b', branch, 'main')
      await commitFile(repo, `${branch}.bin`, data, branch)
      await ok(ada, repo, 'push', 'origin', branch)
    }
    await ada.git(repo, 'checkout', '-q', 'main')
    expect(await packs(bytes)).toHaveLength(3)

    const fsck = await ok(ada, repo, 'fsck', '--remote', 'origin')
    expect(fsck.stdout).toMatch(/^remote origin: ok: \d+ objects \(.*\) in 3 packs; .* verified$/m)
  })

  test('gc: the default grace period keeps young packs; a dry run names the unreferenced ones and changes nothing', async () => {
    const before = await bytes.keys()
    const young = await ok(ada, repo, 'gc', '--remote', 'origin')
    expect(young.stdout).toMatch(/^remote origin: freed 0 B; kept/m)
    expect(await bytes.keys()).toEqual(before)

    const dry = await ok(ada, repo, 'gc', '--remote', 'origin', '--dry-run', '--grace', '0')
    const named = [
      ...dry.stdout.matchAll(/^would remove (packs\/\S+\.pack) \(nothing in it is referenced\)$/gm),
    ]
    // Neither branch is on the Git remote: both mlvc-only packs are garbage without --keep.
    expect(named).toHaveLength(2)
    expect(dry.stdout).toMatch(/^remote origin: would free (4\.\d|5\.\d) MiB; kept/m)
    expect(await bytes.keys()).toEqual(before)
  })

  test('gc --grace 0 --keep kept: removes the scratch pack only; every ref, --keep branch and clone still has every byte', async () => {
    const gc = await ok(ada, repo, 'gc', '--remote', 'origin', '--grace', '0', '--keep', 'kept')
    expect(gc.stdout.match(/^removed packs\/\S+\.pack/gm)).toHaveLength(1)
    expect(await packs(bytes)).toHaveLength(2)
    expect((await bytes.keys()).filter((k) => k.startsWith('locks/'))).toEqual([])

    // The scratch branch's file is gone from the remote, and fsck says so; nothing else is.
    const fsck = await ada.mlvc(repo, 'fsck', '--remote', 'origin', '--json')
    expect(fsck.code).toBe(1)
    const report = JSON.parse(fsck.stdout) as { issues: Array<{ kind: string; id?: string }> }
    const scratchId = /^id: (\S+)$/m.exec(await ada.git(repo, 'show', 'scratch:scratch.bin'))?.[1]
    expect(report.issues.every((i) => i.kind === 'missing')).toBe(true)
    expect(report.issues.map((i) => i.id)).toContain(scratchId)
    await ada.git(repo, 'branch', '-q', '-D', 'scratch')
    await ok(ada, repo, 'fsck', '--remote', 'origin')

    const clone = join(dir, 'bob')
    await bob.git(dir, 'clone', '-q', bare, clone)
    await ok(bob, clone, 'pull')
    expect(readFileSync(join(clone, 'model.bin')).equals(v2)).toBe(true)
    await bob.git(clone, 'checkout', '-q', 'HEAD~1')
    await ok(bob, clone, 'pull')
    expect(readFileSync(join(clone, 'model.bin')).equals(v1)).toBe(true)
    await ok(ada, repo, 'fetch', 'origin', 'kept')
  })

  test('gc refuses without refs/remotes/NAME/*: everything would look unreferenced', async () => {
    const lonely = join(dir, 'lonely')
    mkdirSync(lonely)
    await ada.git(lonely, 'init', '-q')
    await ok(ada, lonely, 'remote', 'add', 'origin', ...bytes.args())
    const before = await bytes.keys()
    const gc = await ada.mlvc(lonely, 'gc', '--remote', 'origin', '--grace', '0')
    expect(gc.code).not.toBe(0)
    expect(gc.stderr).toContain('Git has no refs/remotes/origin/*')
    expect(await bytes.keys()).toEqual(before)
  })

  test('fsck finds a corrupted object (not with --quick, which reads indexes and sizes only) and a deleted pack', async () => {
    const [first = '', second = ''] = await packs(bytes)
    expect(second).toMatch(/^packs\//)
    const data = await bytes.read(first)
    const at = data.length >> 1
    data.writeUInt8(data.readUInt8(at) ^ 0x40, at)
    await bytes.write(first, data)
    const full = await ada.mlvc(repo, 'fsck', '--remote', 'origin')
    expect(full.code).toBe(1)
    expect(full.stdout).toMatch(
      new RegExp(`^corrupt: \\S+ at offset \\d+ of ${first}: its bytes do not match its id$`, 'm'),
    )
    const quick = await ok(ada, repo, 'fsck', '--remote', 'origin', '--quick')
    expect(quick.stdout).toContain('object bytes not read (--quick)')

    await bytes.remove(second)
    for (const flags of [[], ['--quick']]) {
      const gone = await ada.mlvc(repo, 'fsck', '--remote', 'origin', ...flags)
      expect(gone.code).toBe(1)
      expect(gone.stdout).toMatch(
        new RegExp(`^missing-pack: ${second} is missing but its index lists \\d+ objects$`, 'm'),
      )
      expect(gone.stdout).toMatch(
        /^missing: \S+ is needed by the local refs but not on the remote$/m,
      )
    }
  })
})
