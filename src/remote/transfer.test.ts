import { closeSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { openForReading } from '../core/index.ts'
import {
  chunkSource,
  fileSource,
  formatId,
  ingestFile,
  materialize,
  openStore,
  type Store,
} from '../store/index.ts'
import { damageFile, tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { folderRemote } from './folder.ts'
import { pushObjects } from './push.ts'
import type { Remote } from './remote.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-transfer')
let n = 0

async function storeWith(
  sizes: number[],
): Promise<{ store: Store; ids: string[]; files: Buffer[] }> {
  const store = await openStore(join(dir, `store-${n++}`), { create: true })
  const ids: string[] = []
  const files: Buffer[] = []
  for (const size of sizes) {
    const path = join(dir, `file-${n++}`)
    files.push(writeRandomFile(path, size, n))
    ids.push((await ingestFile(store, path)).id)
  }
  await store.commit()
  return { store, ids, files }
}

/** A push stopped (Ctrl-C) as soon as it reports progress; it must say so. */
async function pushInterrupted(store: Store, remote: Remote, ids: string[]): Promise<void> {
  const controller = new AbortController()
  await expect(
    pushObjects(store, remote, ids, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }),
  ).rejects.toThrow(/interrupted; run it again/)
}

describe('push and fetch through a folder remote', () => {
  test('round trip: byte-identical, one request per pack, nothing twice', async () => {
    const { store, ids, files } = await storeWith([70 * MiB, 5 * MiB])
    const remote = folderRemote('origin', join(dir, 'remote-a'))
    const pushed = await pushObjects(store, remote, ids)
    expect(pushed.packs).toBe(2)
    expect(pushed.uploadedBytes).toBeGreaterThan(75 * MiB)
    expect((await pushObjects(store, remote, ids)).uploadedObjects).toBe(0)
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    const fetched = await fetchObjects(other, remote, ids)
    expect(fetched.missing).toEqual([])
    expect(fetched.requests).toBeLessThan(20)
    for (const [i, id] of ids.entries()) {
      await materialize(other, id, join(dir, `out-${i}`))
      expect(readFileSync(join(dir, `out-${i}`)).equals(files[i] as Buffer)).toBe(true)
    }
    expect((await fetchObjects(other, remote, ids)).fetchedObjects).toBe(0)
    await Promise.all([store.close(), other.close()])
  })

  test('a push interrupted after one pack sends only the rest when run again', async () => {
    const { store, ids } = await storeWith([100 * MiB])
    const remote = folderRemote('origin', join(dir, 'remote-b'))
    await pushInterrupted(store, remote, ids)
    const second = await pushObjects(store, remote, ids)
    expect(second.present).toBeGreaterThan(0)
    expect(second.sentBytes).toBeLessThan(60 * MiB)
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    expect((await fetchObjects(other, remote, ids)).missing).toEqual([])
    await Promise.all([store.close(), other.close()])
  })

  test('a pack of chunks only, all to be sent, goes as it is; an interrupted one resumes', async () => {
    const root = join(dir, `store-${n++}`)
    const writer = await openStore(root, { create: true })
    const path = join(dir, `file-${n++}`)
    writeRandomFile(path, 20 * MiB, n)
    const { fd } = openForReading(path)
    const content = await chunkSource(writer, fileSource(fd), { path })
    closeSync(fd)
    await writer.close()
    // Another process's packs (a process's own packs may still grow).
    const store = await openStore(root)
    const ids = Array.from({ length: content.chunks.count }, (_, i) =>
      formatId('chunk', content.chunks.digest(i)),
    )
    const packsIn = (root: string) =>
      readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.pack'))
    const [local] = packsIn(join(store.layout.root, 'packs'))
    const remote = folderRemote('origin', join(dir, 'remote-whole'))
    await pushInterrupted(store, remote, ids)
    // The linked pack the first push left outgoing is finished by the second.
    expect((await pushObjects(store, remote, ids)).resumed).toBe(1)
    const again = await pushObjects(store, folderRemote('other', join(dir, 'remote-whole-2')), ids)
    expect(again).toMatchObject({ packs: 1, asIs: 1, uploadedObjects: ids.length })
    // The local pack, byte for byte: nothing was packed anew.
    const remotePacks = packsIn(join(dir, 'remote-whole'))
    expect(remotePacks).toHaveLength(1)
    const sent = readFileSync(join(dir, 'remote-whole', remotePacks[0] as string))
    expect(sent.equals(readFileSync(join(store.layout.root, 'packs', local as string)))).toBe(true)
    // The store's pack is still there, and nothing is left outgoing.
    expect(packsIn(join(store.layout.root, 'packs'))).toEqual([local])
    expect(packsIn(join(store.layout.root, 'remotes'))).toEqual([])
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    const fetched = await fetchObjects(other, remote, ids)
    expect(fetched.missing).toEqual([])
    for (const id of ids) expect((await other.readObject(id)).length).toBeGreaterThan(0)
    await Promise.all([store.close(), other.close()])
  })

  test('a corrupt object on the remote is refused, named, and nothing of it is stored', async () => {
    const { store, ids } = await storeWith([3 * MiB])
    const root = join(dir, 'remote-c')
    await pushObjects(store, folderRemote('origin', root), ids)
    const pack = join(
      root,
      'packs',
      readdirSync(join(root, 'packs')).find((f) => f.endsWith('.pack')) as string,
    )
    const bytes = readFileSync(pack)
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 1
    writeFileSync(pack, bytes)
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    await expect(fetchObjects(other, folderRemote('origin', root), ids)).rejects.toThrow(
      /remote origin: object \w+ in packs\/pack-[\w-]+\.pack is corrupt/,
    )
    await Promise.all([store.close(), other.close()])
  })

  test('a truncated remote pack is reported with its real size and what was asked for', async () => {
    const { store, ids } = await storeWith([3 * MiB])
    const root = join(dir, 'remote-cut')
    await pushObjects(store, folderRemote('origin', root), ids)
    const pack = join(
      root,
      'packs',
      readdirSync(join(root, 'packs')).find((f) => f.endsWith('.pack')) as string,
    )
    truncateSync(pack, 1000)
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    await expect(fetchObjects(other, folderRemote('origin', root), ids)).rejects.toThrow(
      /^remote origin: packs\/pack-[\w-]+\.pack is truncated: it has 1000 bytes, bytes \d{4,} to \d+ were asked for$/,
    )
    await Promise.all([store.close(), other.close()])
  })

  test('a damaged index on the remote hides only its own pack', async () => {
    const { store, ids, files } = await storeWith([MiB, MiB])
    const root = join(dir, 'remote-bad-idx')
    const remote = folderRemote('origin', root)
    await pushObjects(store, remote, [ids[0] as string])
    const first = readdirSync(join(root, 'packs')).find((f) => f.endsWith('.idx')) as string
    await pushObjects(store, remote, [ids[1] as string])
    damageFile(join(root, 'packs', first), 20)
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    const fetched = await fetchObjects(other, remote, ids)
    expect(fetched.unreadable).toEqual([
      expect.stringMatching(
        /^remote origin: packs\/pack-[\w-]+\.idx: pack index checksum mismatch$/,
      ),
    ])
    expect(fetched.missing).toEqual([ids[0]])
    await materialize(other, ids[1] as string, join(dir, `out-${n++}`))
    expect(readFileSync(join(dir, `out-${n - 1}`)).equals(files[1] as Buffer)).toBe(true)
    await Promise.all([store.close(), other.close()])
  })

  test('objects the remote lacks are reported as missing; a vanished remote is a clear error', async () => {
    const { store, ids } = await storeWith([MiB])
    const other = await openStore(join(dir, `store-${n++}`), { create: true })
    const empty = folderRemote('origin', join(dir, 'remote-empty'))
    expect((await fetchObjects(other, empty, ids)).missing).toEqual(ids)
    const root = join(dir, 'remote-gone')
    await pushObjects(store, folderRemote('origin', root), ids)
    rmSync(join(root, 'packs'), { recursive: true })
    const fresh = await openStore(join(dir, `store-${n++}`), { create: true })
    expect((await fetchObjects(fresh, folderRemote('origin', root), ids)).missing).toEqual(ids)
    await Promise.all([store.close(), other.close(), fresh.close()])
  })
})
