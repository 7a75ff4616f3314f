import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError, type ProgressOptions, uniqueName } from '../core/index.ts'
import {
  closure,
  createPackFile,
  decodeManifest,
  type Location,
  listDamage,
  MAX_PACK_BYTES,
  type ObjectRef,
  parseId,
  retireDamaged,
  type Store,
  sha256Digest,
} from '../store/index.ts'
import { type FetchReport, fetchRanges } from './ranges.ts'
import type { Remote } from './remote.ts'
import { cacheUploadedIndex, loadRemoteIndex, remoteIdxKey, remotePackKey } from './remote-index.ts'

export type { FetchReport } from './ranges.ts'

export interface TransferOptions extends ProgressOptions {
  /** Requests in flight. @default 4 */
  concurrency?: number
}

export interface FetchOptions extends TransferOptions {
  /**
   * Ids known to be damaged locally (an fsck found them), fetched again when the files need them,
   * besides those recorded in the store when a read failed verification.
   */
  damaged?: Iterable<string>
}

export interface PushReport {
  /** Objects (manifests and chunks) the pushed files need. */
  objects: number
  /** Of those, already on the remote. */
  present: number
  uploadedObjects: number
  uploadedBytes: number
  packs: number
}

type Wanted = ObjectRef

async function uploadRank(store: Store, want: Wanted): Promise<number> {
  if (parseId(want.id).kind === 'chunk') return 0
  const manifest = decodeManifest(await store.readObject(want.id), want.id)
  switch (manifest.type) {
    case 'blob':
    case 'part':
      return 1
    case 'delta':
      return 2 + manifest.depth
    case 'file':
      return 1000
  }
}

function readLocal(store: Store, want: Wanted): Buffer {
  const location = store.lookup(want.digest) as Location
  const data = Buffer.allocUnsafe(location.length)
  store.readPack(location.pack, location.offset, data)
  if (!sha256Digest(data).equals(want.digest))
    throw store.damaged(want.id, location, 'its bytes do not match its id; not pushing it')
  return data
}

/**
 * Uploads the objects the given files (manifest ids) need and the remote lacks, as packs of about
 * 64 MiB: one request per pack and one per index. Chunks go before the manifests that reference
 * them, so a manifest on the remote always has its chunks there: an interrupted push leaves only
 * unreferenced chunks, and running it again sends only what is still missing.
 */
export async function pushObjects(
  store: Store,
  remote: Remote,
  roots: Iterable<string>,
  options: TransferOptions = {},
): Promise<PushReport> {
  const index = await loadRemoteIndex(store, remote)
  const { objects: wanted, missing } = await closure(store, roots)
  const absent = missing.filter((ref) => !index.lookup(ref.digest)).map((ref) => ref.id)
  if (absent.length > 0) {
    throw new MlvcError(
      'MISSING_OBJECT',
      `cannot push ${absent[0]}: it is neither in the local store nor on remote ${remote.name}`,
      {
        hint: 'fetch it from the remote that has it (mlvc fetch REMOTE), then push again',
      },
    )
  }
  const toSend = [...wanted.values()].filter(
    (w) => !index.lookup(w.digest) && store.lookup(w.digest),
  )
  // Chunks first, then manifests from the leaves up (parts and blobs, deltas by depth, files), so
  // that every manifest on the remote has what it references there, even after an interruption.
  const rank = new Map<Wanted, number>()
  for (const w of toSend) rank.set(w, await uploadRank(store, w))
  toSend.sort((a, b) => {
    const la = store.lookup(a.digest) as Location
    const lb = store.lookup(b.digest) as Location
    return (
      (rank.get(a) as number) - (rank.get(b) as number) ||
      la.pack - lb.pack ||
      la.offset - lb.offset
    )
  })
  const total = toSend.reduce((sum, w) => sum + (store.lookup(w.digest) as Location).length, 0)
  const report: PushReport = {
    objects: wanted.size,
    present: wanted.size - toSend.length,
    uploadedObjects: 0,
    uploadedBytes: 0,
    packs: 0,
  }
  let next = 0
  while (next < toSend.length) {
    if (options.signal?.aborted)
      throw new MlvcError(
        'INTERRUPTED',
        `push to ${remote.name} interrupted; run it again to send the rest`,
      )
    const name = uniqueName('pack')
    const path = join(store.layout.tmp, `${name}.pack`)
    const pack = createPackFile(path)
    try {
      while (next < toSend.length && pack.size < MAX_PACK_BYTES) {
        const want = toSend[next++] as Wanted
        const data = readLocal(store, want)
        pack.append(want.digest, (store.lookup(want.digest) as Location).kind, data)
        report.uploadedObjects++
        report.uploadedBytes += data.length
      }
      const idx = pack.finish()
      await remote.upload(path, remotePackKey(name))
      await remote.put(remoteIdxKey(name), idx)
      await cacheUploadedIndex(store, remote, name, idx)
      report.packs++
      options.onProgress?.({
        type: 'transfer',
        direction: 'upload',
        done: report.uploadedBytes,
        total,
      })
    } finally {
      await rm(path, { force: true })
    }
  }
  return report
}

/**
 * Downloads what the given files (manifest ids) need and the local store lacks: first the missing
 * manifests, then the chunks they reference, in range requests that cover neighbouring objects of a
 * remote pack. Every object is verified against its id before it is stored. What was fetched is
 * committed even when a later request fails, so running it again fetches only the rest.
 *
 * Objects the files need whose local copy is damaged (found when a read failed verification, or by
 * fsck) are fetched again too, and the damaged copies leave their packs' indexes.
 */
export async function fetchObjects(
  store: Store,
  remote: Remote,
  roots: Iterable<string>,
  options: FetchOptions = {},
): Promise<FetchReport> {
  const index = await loadRemoteIndex(store, remote)
  const report: FetchReport = {
    objects: 0,
    fetchedObjects: 0,
    fetchedBytes: 0,
    requests: 0,
    missing: [],
    repaired: [],
    unreadable: index.unreadable.map((u) => u.message),
  }
  const rootList = [...new Set(roots)]
  const recorded = new Set([...(await listDamage(store)).keys(), ...(options.damaged ?? [])])
  const absent = new Set<string>()
  const requested = new Set<string>()
  try {
    // Manifests name what else is needed, so they come first, a level per round (file, then the
    // parts and deltas it uses, then a delta's base…); then every chunk at once.
    for (;;) {
      const { objects, missing, damaged } = await closure(store, rootList, { tolerateDamage: true })
      report.objects = objects.size
      const known = [...objects.values()].filter((ref) => recorded.has(ref.id))
      const wanted = [
        ...new Map([...missing, ...damaged, ...known].map((r) => [r.id, r])).values(),
      ].filter((ref) => !requested.has(ref.id))
      const manifests = wanted.filter((ref) => parseId(ref.id).kind === 'manifest')
      const round = manifests.length > 0 ? manifests : wanted
      for (const ref of round) requested.add(ref.id)
      const located = round.flatMap((ref) => {
        const location = index.lookup(ref.digest)
        if (!location) absent.add(ref.id)
        return location ? [{ ...ref, location }] : []
      })
      await fetchRanges({ store, remote, index, report }, located, options)
      if (manifests.length === 0) break
    }
  } finally {
    await store.commit()
  }
  if (report.repaired.length > 0) await retireDamaged(store, report.repaired)
  report.missing = [...absent]
  return report
}
