import { existsSync, readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  fsckStore,
  ingestFile,
  listDamage,
  materialize,
  openStore,
  type Store,
} from '../store/index.ts'
import { damageFile, onlyPack, tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { folderRemote } from './folder.ts'
import { pushObjects } from './push.ts'
import { repairFromRemote } from './repair.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-repair')
let n = 0

/** A store holding two files of 3 MiB in one pack, pushed to a folder remote. */
async function pushedStore() {
  const root = join(dir, `store-${n++}`)
  const store = await openStore(root, { create: true })
  const files: Array<{ id: string; data: Buffer }> = []
  for (const seed of [1, 2]) {
    const path = join(dir, `file-${n++}`)
    const data = writeRandomFile(path, 3 * MiB, seed)
    files.push({ id: (await ingestFile(store, path)).id, data })
  }
  await store.commit()
  const remote = folderRemote('origin', join(dir, `remote-${n++}`))
  await pushObjects(
    store,
    remote,
    files.map((f) => f.id),
  )
  await store.close()
  return { root, files, remote }
}

async function expectContent(store: Store, id: string, data: Buffer): Promise<void> {
  const out = join(dir, `out-${n++}`)
  await materialize(store, id, out)
  expect(readFileSync(out).equals(data)).toBe(true)
}

describe('a damaged local store, repaired from a healthy remote', () => {
  test('a read records the damage; fetch replaces it; the pack keeps its other objects', async () => {
    const { root, files, remote } = await pushedStore()
    const [a, b] = files as [{ id: string; data: Buffer }, { id: string; data: Buffer }]
    damageFile(onlyPack(root), MiB)
    let store = await openStore(root)
    await expect(materialize(store, a.id, join(dir, `out-${n++}`))).rejects.toThrow(
      /chunk bafkrei\w+ at offset \d+ of pack pack-[\w-]+ is damaged: its bytes do not match its id/,
    )
    expect([...(await listDamage(store)).values()]).toEqual([
      expect.objectContaining({ offset: expect.any(Number) }),
    ])
    // A fetch of what the file needs replaces the damaged object although it is present.
    const fetched = await fetchObjects(store, remote, [a.id])
    expect(fetched.repaired).toHaveLength(1)
    expect(fetched.fetchedObjects).toBe(1)
    await expectContent(store, a.id, a.data)
    await store.close()
    // Another process reads the good copy; the damaged pack's other objects are still read there.
    store = await openStore(root)
    await expectContent(store, a.id, a.data)
    await expectContent(store, b.id, b.data)
    expect(await listDamage(store)).toEqual(new Map())
    expect((await fsckStore(store)).issues).toEqual([])
    expect((await fetchObjects(store, remote, [a.id, b.id])).fetchedObjects).toBe(0)
    await store.close()
  })

  test('fsck finds damaged and missing objects once each; repairFromRemote fixes them', async () => {
    const { root, files, remote } = await pushedStore()
    const [a, b] = files as [{ id: string; data: Buffer }, { id: string; data: Buffer }]
    const pack = onlyPack(root)
    damageFile(pack, MiB)
    // Cut off the second file's last chunks: they are damaged too (the pack ends before them).
    truncateSync(pack, readFileSync(pack).length - 1000)
    let store = await openStore(root)
    const other = join(dir, `file-${n++}`)
    const c = { data: writeRandomFile(other, MiB, 3), id: '' }
    const elsewhere = await openStore(join(dir, `store-${n++}`), { create: true })
    c.id = (await ingestFile(elsewhere, other)).id
    await elsewhere.commit()
    await pushObjects(elsewhere, remote, [c.id])
    await elsewhere.close()
    const roots = [
      { id: a.id, from: 'a.bin (HEAD, index)' },
      { id: b.id, from: 'b.bin (HEAD)' },
      { id: c.id, from: 'c.bin (HEAD)' },
      { id: c.id, from: 'c.bin (index)' },
    ]
    const report = await fsckStore(store, { roots })
    expect(report.issues.map((i) => i.kind).sort()).toEqual(['corrupt', 'corrupt', 'missing'])
    expect(report.issues).toContainEqual(
      expect.objectContaining({ kind: 'corrupt', usedBy: ['a.bin (HEAD, index)'] }),
    )
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        kind: 'corrupt',
        usedBy: ['b.bin (HEAD)'],
        message: expect.stringMatching(
          /is damaged: pack pack-[\w-]+ is truncated: it has \d+ bytes/,
        ),
      }),
    )
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        kind: 'missing',
        message: `c.bin (HEAD), c.bin (index): object ${c.id} is missing from the local store (mlvc pull fetches it)`,
      }),
    )
    const repair = await repairFromRemote(store, remote, report.issues)
    expect(repair.remaining).toEqual([])
    expect(repair.fetch.repaired).toHaveLength(2)
    await store.close()
    store = await openStore(root)
    expect((await fsckStore(store, { roots })).issues).toEqual([])
    for (const f of [a, b, c]) await expectContent(store, f.id, f.data)
    expect(existsSync(pack)).toBe(true)
    await store.close()
  })

  test('what the remote lacks stays reported', async () => {
    const { root, files } = await pushedStore()
    const a = files[0] as { id: string; data: Buffer }
    damageFile(onlyPack(root), MiB)
    const store = await openStore(root)
    const report = await fsckStore(store, { roots: [{ id: a.id, from: 'a.bin' }] })
    const empty = folderRemote('empty', join(dir, `remote-${n++}`))
    const repair = await repairFromRemote(store, empty, report.issues)
    expect(repair.remaining).toEqual(report.issues)
    expect(repair.fetch.missing).toHaveLength(1)
    await store.close()
  })

  test('a garbled pack index: the store still opens; repair rebuilds it from the pack itself', async () => {
    const { root, files } = await pushedStore()
    const [a, b] = files as [{ id: string; data: Buffer }, { id: string; data: Buffer }]
    const idx = onlyPack(root).replace(/\.pack$/, '.idx')
    damageFile(idx, 0)
    let store = await openStore(root)
    const roots = [
      { id: a.id, from: 'a.bin' },
      { id: b.id, from: 'b.bin' },
    ]
    const report = await fsckStore(store, { roots })
    expect(report.issues.map((i) => i.kind)).toEqual(['bad-index', 'missing', 'missing'])
    // No remote has them: the pack's own records are what brings them back.
    const empty = folderRemote('empty', join(dir, `remote-${n++}`))
    const repair = await repairFromRemote(store, empty, report.issues)
    expect(repair.remaining).toEqual([])
    await store.close()
    store = await openStore(root)
    expect((await fsckStore(store, { roots })).issues).toEqual([])
    for (const f of [a, b]) await expectContent(store, f.id, f.data)
    await store.close()
  })
})
