import {
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ingestFile, materialize, openStore, type Store } from '../store/index.ts'
import { tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { folderRemote } from './folder.ts'
import { fsckRemote } from './fsck.ts'
import { gcRemote } from './gc.ts'
import { lockForGc, lockForPush } from './lock.ts'
import { pushObjects } from './push.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-remote-maintain')
let n = 0

async function storeWith(sizes: number[]): Promise<{ store: Store; ids: string[] }> {
  const store = await openStore(join(dir, `store-${n++}`), { create: true })
  const ids: string[] = []
  for (const size of sizes) {
    const path = join(dir, `file-${n++}`)
    writeRandomFile(path, size, n)
    ids.push((await ingestFile(store, path)).id)
  }
  await store.commit()
  return { store, ids }
}

/** Makes every file under the remote's packs look written an hour and a minute ago. */
function age(root: string): void {
  const old = new Date(Date.now() - 3660_000)
  for (const f of readdirSync(join(root, 'packs'))) utimesSync(join(root, 'packs', f), old, old)
}

const packFiles = (root: string, ext: string) =>
  readdirSync(join(root, 'packs')).filter((f) => f.endsWith(ext))

describe('mlvc fsck --remote', () => {
  test('clean, then a flipped byte, a truncated pack, an orphan pack and a missing file, each named once', async () => {
    const { store, ids } = await storeWith([3 * MiB, 2 * MiB])
    const root = join(dir, 'remote-fsck')
    const remote = folderRemote('origin', root)
    await pushObjects(store, remote, [ids[0] as string])
    const clean = await fsckRemote(store, remote, { roots: [ids[0] as string] })
    expect(clean.issues).toEqual([])
    expect(clean.verifiedBytes).toBe(clean.bytes)
    expect(clean.packs).toBe(1)

    const missing = await fsckRemote(store, remote, { roots: ids })
    expect(missing.issues.map((i) => i.kind)).toContain('missing')
    expect(missing.issues.find((i) => i.kind === 'missing')?.message).toContain(ids[1])

    const [pack] = packFiles(root, '.pack') as [string]
    const path = join(root, 'packs', pack)
    const bytes = readFileSync(path)
    bytes.writeUInt8(bytes.readUInt8(1_000_000) ^ 1, 1_000_000)
    writeFileSync(path, bytes)
    const corrupt = await fsckRemote(store, remote, {})
    expect(corrupt.issues).toHaveLength(1)
    expect(corrupt.issues[0]).toMatchObject({ kind: 'corrupt', severity: 'error' })
    expect(corrupt.issues[0]?.message).toMatch(
      /^bafkrei\w+ at offset \d+ of packs\/pack-.*\.pack: its bytes do not match its id$/,
    )
    expect((await fsckRemote(store, remote, { quick: true })).issues).toEqual([])

    truncateSync(path, 2 * MiB)
    const cut = await fsckRemote(store, remote, { quick: true })
    expect(cut.issues[0]?.kind).toBe('truncated-pack')
    expect(cut.issues[0]?.message).toMatch(
      /has 2097152 bytes; its index lists objects up to byte \d+/,
    )

    writeFileSync(join(root, 'packs', 'pack-orphan.pack'), 'x')
    expect((await fsckRemote(store, remote, { quick: true })).issues.map((i) => i.kind)).toEqual([
      'truncated-pack',
    ])
    age(root)
    const orphan = await fsckRemote(store, remote, { quick: true })
    expect(orphan.issues.map((i) => i.kind).sort()).toEqual(['truncated-pack', 'unindexed-pack'])
    await store.close()
  })
})

describe('mlvc gc --remote', () => {
  test('removes what no root needs, repacks mostly-garbage packs, keeps what is young; a dry run removes nothing', async () => {
    const { store, ids } = await storeWith([3 * MiB, 2 * MiB, 40 * MiB, 1 * MiB])
    const [a, b, c, d] = ids as [string, string, string, string]
    const root = join(dir, 'remote-gc')
    const remote = folderRemote('origin', root)
    await pushObjects(store, remote, [a])
    await pushObjects(store, remote, [b])
    await pushObjects(store, remote, [c, d]) // one pack: 40 MiB of c, 1 MiB of d
    expect(packFiles(root, '.pack')).toHaveLength(3)

    const young = await gcRemote(store, remote, { roots: [a, d] })
    expect(young.removedPacks).toEqual([])
    expect(young.repackedPacks).toEqual([])

    age(root)
    const dry = await gcRemote(store, remote, { roots: [a, d], dryRun: true })
    expect(dry.removedPacks).toHaveLength(1)
    expect(dry.repackedPacks).toHaveLength(1)
    expect(dry.freedBytes).toBeGreaterThan(42 * MiB)
    expect(packFiles(root, '.pack')).toHaveLength(3)

    const done = await gcRemote(store, remote, { roots: [a, d] })
    expect(done.freedBytes).toBe(dry.freedBytes)
    expect(packFiles(root, '.pack')).toHaveLength(2)
    const sizes = packFiles(root, '.pack').map((f) => statSync(join(root, 'packs', f)).size)
    expect(Math.max(...sizes)).toBeLessThan(4 * MiB)
    expect((await fsckRemote(store, remote, { roots: [a, d] })).issues).toEqual([])

    const other = await openStore(join(dir, 'store-other'), { create: true })
    const fetched = await fetchObjects(other, remote, [a, b, d])
    expect(fetched.missing.length).toBeGreaterThan(0)
    expect(fetched.missing).toContain(b)
    await materialize(other, d, join(dir, 'd.out'))
    await Promise.all([store.close(), other.close()])
  })

  test('a running push keeps gc out, and a running gc keeps pushes out', async () => {
    const { store, ids } = await storeWith([1 * MiB])
    const remote = folderRemote('origin', join(dir, 'remote-lock'))
    const push = await lockForPush(remote)
    await expect(gcRemote(store, remote, { roots: [] })).rejects.toThrow(
      'remote origin: a push is running',
    )
    await push.release()
    const gc = await lockForGc(remote)
    await expect(pushObjects(store, remote, ids)).rejects.toThrow(
      'remote origin is being garbage-collected (mlvc gc --remote)',
    )
    await gc.release()
    expect((await pushObjects(store, remote, ids)).packs).toBe(1)
    await store.close()
  })
})
