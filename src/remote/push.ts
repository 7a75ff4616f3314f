import { renameSync, writeFileSync } from 'node:fs'
import { copyFile, link, readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  ensureDir,
  fsError,
  isErrno,
  MlvcError,
  pushAll,
  readFullSync,
  uniqueName,
} from '../core/index.ts'
import {
  closure,
  createPackFile,
  decodeIdx,
  decodeManifest,
  findDamaged,
  type Location,
  MAX_PACK_BYTES,
  type ObjectRef,
  parseId,
  RECORD_HEADER,
  type Store,
} from '../store/index.ts'
import { lockForPush } from './lock.ts'
import type { Remote } from './remote.ts'
import {
  cacheUploadedIndex,
  loadRemoteIndex,
  remoteCacheDir,
  remoteIdxKey,
  remotePackKey,
} from './remote-index.ts'
import type { TransferOptions } from './transfer.ts'

export interface PushReport {
  /** Objects (manifests and chunks) the pushed files need. */
  objects: number
  /** Of those, already on the remote. */
  present: number
  uploadedObjects: number
  /** Bytes of the objects published (packs an interrupted push left and this one finished included). */
  uploadedBytes: number
  /** Bytes this push actually sent (less than the packs' size when it resumed uploads). */
  sentBytes: number
  packs: number
  /** Of those, packs of the local store sent as they are (chunks only, all wanted). */
  asIs: number
  /** Packs an interrupted push left, finished by this one. */
  resumed: number
}

/** A report of nothing pushed yet (pushes in batches add theirs up into one). */
export function emptyPushReport(): PushReport {
  return {
    objects: 0,
    present: 0,
    uploadedObjects: 0,
    uploadedBytes: 0,
    sentBytes: 0,
    packs: 0,
    asIs: 0,
    resumed: 0,
  }
}

type Wanted = ObjectRef & { location: Location }

/** Chunks first, then manifests from the leaves up (read here synchronously: 10,000 files are
 * 10,000 manifests, and a read through the thread pool each costs more than the read). A manifest
 * may be stored compressed: it is read decoded. */
function uploadRank(store: Store, want: Wanted): number {
  if (parseId(want.id).kind === 'chunk') return 0
  const manifest = decodeManifest(store.readAt(want.id, want.location), want.id)
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

/**
 * Checks objects in the local store (decoded, on worker threads) before they are pushed; a damaged
 * one is recorded and thrown.
 */
async function checkLocal(store: Store, wants: readonly Wanted[]): Promise<void> {
  const damaged = await findDamaged(
    wants.map((w) => ({ ...w.location, digest: w.digest, fd: store.packFd(w.location.pack) })),
  )
  for (const [i, why] of damaged) {
    const want = wants[i]
    if (want) throw store.damaged(want.id, want.location, `${why}; not pushing it`)
  }
}

/**
 * The stored bytes of an object, as they go into the pack pushed (encoded ones stay encoded); read
 * into `scratch` when it fits (the result is then a view of it).
 */
function readLocal(store: Store, want: Wanted, scratch?: Buffer): Buffer {
  const length = want.location.length
  const data =
    scratch && scratch.length >= length ? scratch.subarray(0, length) : Buffer.allocUnsafe(length)
  store.readPack(want.location.pack, want.location.offset, data)
  return data
}

/** A pack built for the remote, waiting in `<store>/remotes/<remote>/outgoing/` until it is sent. */
interface Outgoing {
  name: string
  pack: string
  idx: string
  objects: number
  bytes: number
}

function outgoingDir(store: Store, remote: Remote): string {
  return join(remoteCacheDir(store, remote), 'outgoing')
}

/** Packs an interrupted push built but did not finish sending, oldest first. */
async function leftOutgoing(dir: string): Promise<Outgoing[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw fsError(err, 'listing', dir)
  }
  const out: Outgoing[] = []
  // `<name>.json` records; `<name>.pack.upload.json` is a remote's resumable upload state.
  for (const file of names.filter((n) => n.endsWith('.json') && !n.includes('.pack')).sort()) {
    try {
      out.push(JSON.parse(await readFile(join(dir, file), 'utf8')) as Outgoing)
    } catch {
      // a record cut short by a crash: its pack is rebuilt from the store if still needed
    }
  }
  return out
}

/** How a pack of the local store begins when it is of the format remotes take as it is. */
const PACK_MAGIC_2 = Buffer.from('MLVCPK02')

/**
 * The local packs that can be uploaded as they are: committed, of format 2, holding chunks only
 * (nothing in them references anything, so they may be published in any order), every one of
 * which is to be sent. Packs holding manifests are rebuilt, manifests together at the end: a
 * fetch reads the manifests first, and as `git add` wrote them they sit among the chunks, a range
 * request each. A dataset's first push is mostly such packs: each is checked, then
 * hard-linked into the outgoing folder with a copy of its index (linkOutgoing: no bytes read and
 * written again), and from there sent and resumed like a pack built for the push. Returns those
 * packs (their path without extension) and the objects left to pack.
 */
async function wholePacks(
  store: Store,
  toSend: readonly Wanted[],
): Promise<{ whole: Array<{ base: string; wants: Wanted[] }>; rest: Wanted[] }> {
  const byPack = new Map<number, Wanted[]>()
  for (const w of toSend) {
    const list = byPack.get(w.location.pack)
    if (list) list.push(w)
    else byPack.set(w.location.pack, [w])
  }
  const whole: Array<{ base: string; wants: Wanted[] }> = []
  const taken = new Set<number>()
  for (const [pack, wants] of byPack) {
    const info = store.packs[pack]
    if (!info || info.own || wants.some((w) => w.location.kind !== 'chunk')) continue
    const base = join(store.layout.packs, info.name)
    let entries: ReturnType<typeof decodeIdx>
    try {
      entries = decodeIdx(await readFile(`${base}.idx`), `${base}.idx`)
      const head = Buffer.alloc(PACK_MAGIC_2.length)
      readFullSync(store.packFd(pack), head, 0)
      if (!head.equals(PACK_MAGIC_2)) continue
    } catch {
      continue // not readable as it is: its objects are packed anew
    }
    if (entries.length !== wants.length || entries.some((e) => e.kind !== 'chunk')) continue
    whole.push({ base, wants })
    taken.add(pack)
  }
  return { whole, rest: toSend.filter((w) => !taken.has(w.location.pack)) }
}

/** A local pack as an outgoing one (see wholePacks); undefined when it cannot be linked. */
async function linkOutgoing(
  dir: string,
  base: string,
  wants: readonly Wanted[],
): Promise<Outgoing | undefined> {
  const name = uniqueName('pack')
  const pack: Outgoing = {
    name,
    pack: join(dir, `${name}.pack`),
    idx: join(dir, `${name}.idx`),
    objects: wants.length,
    bytes: wants.reduce((sum, w) => sum + w.location.length, 0),
  }
  try {
    await link(`${base}.pack`, pack.pack)
    await copyFile(`${base}.idx`, pack.idx)
  } catch {
    await Promise.all([pack.pack, pack.idx].map((f) => rm(f, { force: true })))
    return undefined
  }
  return recordOutgoing(dir, pack)
}

/** Writes the record that makes a later push resume `pack` (atomically); returns it. */
function recordOutgoing(dir: string, pack: Outgoing): Outgoing {
  const record = join(dir, `${pack.name}.json`)
  writeFileSync(`${record}.tmp`, JSON.stringify(pack))
  renameSync(`${record}.tmp`, record)
  return pack
}

/**
 * Uploads the objects the given files (manifest ids) need and the remote lacks, as packs of about
 * 64 MiB: one upload per pack (multipart on S3) and one request per index.
 *
 * Order: chunks first, then manifests from the leaves up, and a pack's index — which is what makes
 * its objects visible on the remote — only after the indexes of every pack before it. Packs are
 * built while earlier ones upload, `packsInFlight` at a time, but a manifest on the remote always
 * has what it references there, whenever a push stops.
 *
 * Resumption: a pack is built into this store's outgoing folder for the remote and stays there
 * until its index is published; an interrupted push leaves it (and the remote's resumable upload
 * state beside it), and the next push finishes those packs first, sending only what the remote
 * lacks of them, then plans the rest.
 */
export async function pushObjects(
  store: Store,
  remote: Remote,
  roots: Iterable<string>,
  options: TransferOptions & { packsInFlight?: number } = {},
): Promise<PushReport> {
  const dir = outgoingDir(store, remote)
  const report = emptyPushReport()
  let sent = 0
  let total = 0
  const progress = (bytes: number) => {
    sent += bytes
    report.sentBytes += bytes
    options.onProgress?.({ type: 'transfer', direction: 'upload', done: sent, total })
  }
  const interrupted = () =>
    new MlvcError(
      'INTERRUPTED',
      `push to ${remote.name} interrupted; run it again to send the rest`,
    )

  async function send(pack: Outgoing): Promise<void> {
    await remote.upload(pack.pack, remotePackKey(pack.name), {
      signal: options.signal,
      onBytes: progress,
      resumable: true,
    })
  }

  async function publish(pack: Outgoing): Promise<void> {
    // Ctrl-C: what is not published stays outgoing, for the next push to finish.
    if (options.signal?.aborted) throw interrupted()
    const idx = await readFile(pack.idx)
    await remote.create(remoteIdxKey(pack.name), idx, { signal: options.signal })
    await cacheUploadedIndex(store, remote, pack.name, idx)
    report.packs++
    report.uploadedObjects += pack.objects
    report.uploadedBytes += pack.bytes
    await Promise.all(
      [`${pack.name}.json`, `${pack.name}.idx`].map((f) => rm(join(dir, f), { force: true })),
    )
    for (const f of await readdir(dir)) {
      if (f.startsWith(`${pack.name}.pack`)) await rm(join(dir, f), { force: true })
    }
  }

  const lock = await lockForPush(remote)
  try {
    return await pushLocked()
  } finally {
    await lock.release()
  }

  async function pushLocked(): Promise<PushReport> {
    // Packs a previous push left: finish them first, in the order they were built. One whose upload
    // completed (it stopped before the index) is not sent again.
    for (const pack of await leftOutgoing(dir)) {
      if (options.signal?.aborted) throw interrupted()
      total += pack.bytes
      const there = await remote.head(remotePackKey(pack.name), { signal: options.signal })
      const size = (await stat(pack.pack)).size
      if (there?.size !== size) await send(pack)
      else sent += size
      await publish(pack)
      report.resumed++
    }

    const index = await loadRemoteIndex(store, remote)
    const { objects: wanted, missing } = await closure(store, roots)
    const absent = missing.filter((ref) => !index.lookup(ref.digest)).map((ref) => ref.id)
    if (absent.length > 0) {
      throw new MlvcError(
        'MISSING_OBJECT',
        `cannot push ${absent[0]}: it is neither in the local store nor on remote ${remote.name}`,
        { hint: 'fetch it from the remote that has it (mlvc fetch REMOTE), then push again' },
      )
    }
    const toSend: Wanted[] = []
    for (const w of wanted.values()) {
      const location = index.lookup(w.digest) ? undefined : store.lookup(w.digest)
      if (location) toSend.push({ ...w, location })
    }
    const rank = new Map<Wanted, number>()
    for (const w of toSend) rank.set(w, uploadRank(store, w))
    toSend.sort(
      (a, b) =>
        (rank.get(a) ?? 0) - (rank.get(b) ?? 0) ||
        a.location.pack - b.location.pack ||
        a.location.offset - b.location.offset,
    )
    report.objects = wanted.size
    report.present = wanted.size - toSend.length
    for (const w of toSend) total += w.location.length

    await ensureDir(dir)
    const packsInFlight = Math.max(1, options.packsInFlight ?? 2)
    // Uploads run concurrently; indexes are published strictly in build order (see above).
    let published: Promise<void> = Promise.resolve()
    const running = new Set<Promise<void>>()
    let failure: { err: unknown } | undefined
    const queue = async (pack: Outgoing) => {
      const uploaded = send(pack)
      published = Promise.all([published, uploaded]).then(() => publish(pack))
      const done = published
      const tracked = done.then(
        () => {
          running.delete(tracked)
        },
        (err: unknown) => {
          running.delete(tracked)
          failure ??= { err }
        },
      )
      running.add(tracked)
      if (running.size >= packsInFlight) await Promise.race(running)
    }
    // Chunks first: packs of chunks only go as they are, before anything is packed anew (and
    // those that cannot be linked are packed first).
    const { whole, rest } = await wholePacks(store, toSend)
    const unlinked: Wanted[] = []
    for (const { base, wants } of whole) {
      if (options.signal?.aborted) failure ??= { err: interrupted() }
      if (failure) break
      await checkLocal(store, wants)
      const pack = await linkOutgoing(dir, base, wants)
      if (!pack) {
        pushAll(unlinked, wants)
        continue
      }
      report.asIs++
      await queue(pack)
    }
    const remaining = unlinked.concat(rest)
    let next = 0
    while (next < remaining.length && !failure) {
      if (options.signal?.aborted) {
        failure = { err: interrupted() }
        break
      }
      const pack = await buildPack(store, dir, remaining, next)
      next += pack.objects
      await queue(pack)
    }
    await Promise.all(running)
    if (failure) {
      const err = failure.err
      throw options.signal?.aborted && !(err instanceof MlvcError && err.code !== 'INTERRUPTED')
        ? interrupted()
        : err
    }
    return report
  }
}

/** Bytes a pack is built by between turns of the event loop. */
const BUILD_SLICE = 4 * 1024 * 1024

/**
 * Writes objects[from…] into a new outgoing pack of at most ~64 MiB, with its index and the record
 * that makes a later push resume it (written last, atomically, before any upload starts). The
 * reads and writes are synchronous, so it lets the event loop turn every few MiB: the uploads of
 * the packs before it keep their sockets fed meanwhile.
 */
async function buildPack(
  store: Store,
  dir: string,
  objects: readonly Wanted[],
  from: number,
): Promise<Outgoing> {
  // The objects that fill the pack, as their stored bytes add up (a pack ends past MAX_PACK_BYTES).
  let to = from
  for (let size = 0; to < objects.length && size < MAX_PACK_BYTES; to++)
    size += RECORD_HEADER + (objects[to]?.location.length ?? 0)
  await checkLocal(store, objects.slice(from, to))
  const name = uniqueName('pack')
  const path = join(dir, `${name}.pack`)
  const builder = createPackFile(path)
  let bytes = 0
  let slice = 0
  // The builder writes (or copies) each object before append returns: one buffer serves them all.
  const scratch = Buffer.allocUnsafe(1024 * 1024)
  for (const want of objects.slice(from, to)) {
    const data = readLocal(store, want, scratch)
    builder.append(want.digest, want.location.kind, data, want.location)
    bytes += data.length
    slice += data.length
    if (slice >= BUILD_SLICE) {
      slice = 0
      await new Promise((resume) => setImmediate(resume))
    }
  }
  const pack: Outgoing = {
    name,
    pack: path,
    idx: join(dir, `${name}.idx`),
    objects: to - from,
    bytes,
  }
  writeFileSync(pack.idx, builder.finish())
  return recordOutgoing(dir, pack)
}
