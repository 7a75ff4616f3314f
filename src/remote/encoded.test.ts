import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { fsckStore, ingestFile, materialize, openStore, type Store } from '../store/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { folderRemote } from './folder.ts'
import { fsckRemote } from './fsck.ts'
import { gcRemote } from './gc.ts'
import { pushObjects } from './push.ts'
import { fetchObjects } from './transfer.ts'

const dir = tempDir('mlvc-remote-encoded')
let n = 0

/** Text that deflates to a fraction of its size, different for each seed. */
function logText(lines: number, seed: number): Buffer {
  const out: string[] = []
  for (let i = 0; i < lines; i++)
    out.push(`run ${seed} step ${i}: loss ${(1 / (i + seed)).toFixed(6)} lr 0.0003\n`)
  return Buffer.from(out.join(''))
}

async function storeWith(files: Buffer[]): Promise<{ store: Store; ids: string[] }> {
  const store = await openStore(join(dir, `store-${n++}`), { create: true, compress: true })
  const ids: string[] = []
  for (const data of files) {
    const path = join(dir, `file-${n++}`)
    writeFileSync(path, data)
    ids.push((await ingestFile(store, path)).id)
  }
  await store.commit()
  return { store, ids }
}

function packsOf(root: string): string[] {
  const packs = join(root, 'packs')
  return readdirSync(packs)
    .filter((f) => f.endsWith('.pack'))
    .map((f) => join(packs, f))
}

const bytesOf = (paths: string[]) => paths.reduce((s, p) => s + readFileSync(p).length, 0)

async function expectContent(store: Store, id: string, data: Buffer): Promise<void> {
  const out = join(dir, `out-${n++}`)
  await materialize(store, id, out)
  expect(readFileSync(out).equals(data)).toBe(true)
}

test('compressed objects travel compressed, are checked decoded, and stay compressed', async () => {
  const files = [logText(60_000, 1), logText(20_000, 2)]
  const { store, ids } = await storeWith(files)
  const remoteRoot = join(dir, `remote-${n++}`)
  const remote = folderRemote('origin', remoteRoot)
  await pushObjects(store, remote, ids)
  const raw = (files[0]?.length ?? 0) + (files[1]?.length ?? 0)
  expect(bytesOf(packsOf(remoteRoot))).toBeLessThan(raw / 3)
  expect((await fsckRemote(store, remote, { roots: ids })).issues).toEqual([])
  const other = await openStore(join(dir, `store-${n++}`), { create: true })
  const fetched = await fetchObjects(other, remote, ids)
  expect(fetched.missing).toEqual([])
  expect(fetched.fetchedBytes).toBeLessThan(raw / 3)
  for (const [i, id] of ids.entries()) await expectContent(other, id, files[i] ?? Buffer.alloc(0))
  const report = await fsckStore(other)
  expect(report.issues).toEqual([])
  expect(report.bytes).toBeLessThan(report.size / 3)
  // gc rewrites the remote pack without the second file: the first stays compressed and readable.
  const gc = await gcRemote(store, remote, {
    roots: [ids[0] ?? ''],
    graceMs: 0,
    repackThreshold: 0.1,
  })
  expect(gc.repackedPacks).toHaveLength(1)
  const third = await openStore(join(dir, `store-${n++}`), { create: true })
  await fetchObjects(third, remote, [ids[0] ?? ''])
  await expectContent(third, ids[0] ?? '', files[0] ?? Buffer.alloc(0))
  await Promise.all([store.close(), other.close(), third.close()])
})

test('a compressed object damaged on the remote: fsck names it, fetch refuses it', async () => {
  const data = logText(60_000, 3)
  const { store, ids } = await storeWith([data])
  const remoteRoot = join(dir, `remote-${n++}`)
  const remote = folderRemote('origin', remoteRoot)
  await pushObjects(store, remote, ids)
  const [pack] = packsOf(remoteRoot)
  const bytes = readFileSync(pack ?? '')
  // The middle of the pack is inside a deflated chunk: flip a byte of its stream.
  const at = bytes.length >> 1
  bytes[at] = (bytes[at] ?? 0) ^ 0x55
  writeFileSync(pack ?? '', bytes)
  const report = await fsckRemote(store, remote, { roots: ids })
  // Corrupt, and so missing for the files that need it.
  expect(report.issues.map((issue) => issue.kind)).toEqual(['corrupt', 'missing'])
  expect(report.issues[0]?.message).toMatch(
    /^bafkrei\w+ at offset \d+ of packs\/pack-[\w-]+\.pack: its deflate stream/,
  )
  const other = await openStore(join(dir, `store-${n++}`), { create: true })
  await expect(fetchObjects(other, remote, ids)).rejects.toThrow(/is corrupt/)
  await Promise.all([store.close(), other.close()])
})

test('a file of many chunks, whose manifest is stored compressed, is pushed and fetched', async () => {
  // 12 MiB of random bytes: about 190 chunks, a manifest of about 14 KB that deflate shrinks.
  const data = pseudoRandomBytes(12 * 1024 * 1024, 7)
  const { store, ids } = await storeWith([data])
  const [id = ''] = ids
  const remote = folderRemote('origin', join(dir, `remote-${n++}`))
  const pushed = await pushObjects(store, remote, ids)
  expect(pushed.uploadedObjects).toBeGreaterThan(100)
  const other = await openStore(join(dir, `store-${n++}`), { create: true })
  expect((await fetchObjects(other, remote, ids)).missing).toEqual([])
  await expectContent(other, id, data)
  await Promise.all([store.close(), other.close()])
})
