import { MlvcError } from '../core/index.ts'
import type { DigestList } from './digest-list.ts'
import { type DataRegion, RAW } from './encoding.ts'
import { regionCursor, regionTable } from './regions.ts'
import type { Store } from './store.ts'
import { encodeInPool, MAX_WORKERS } from './verify-pool.ts'
import type { EncodeReply } from './verify-worker.ts'

export interface ChunksFromFile {
  /** The open file the chunks were cut from, and its name for errors. */
  fd: number
  path: string
  /** The file's chunks (digest, length, offset in the file). */
  chunks: DigestList
  /** What the file holds where (see IngestOptions.regions). */
  regions?: readonly DataRegion[] | undefined
}

/** Raw bytes per worker request at most. */
const BATCH = 8 * 1024 * 1024

/**
 * Stores chunks `which` (indexes into `file.chunks`, in order) of a file that was cut and hashed
 * before (chunkSource with dryRun) and that the store lacks: each is read back from the file on a
 * worker thread, checked against its digest and encoded for its data there. A chunk whose bytes
 * changed meanwhile is an IO error naming the file.
 */
export async function storeChunksFrom(
  store: Store,
  file: ChunksFromFile,
  which: readonly number[],
): Promise<void> {
  const regionOf = regionCursor(regionTable(file.regions ?? []))
  const batches: number[][] = []
  let batch: number[] = []
  let bytes = 0
  for (const i of which) {
    batch.push(i)
    bytes += file.chunks.length(i)
    if (bytes < BATCH) continue
    batches.push(batch)
    batch = []
    bytes = 0
  }
  if (batch.length > 0) batches.push(batch)
  const request = (batch: readonly number[]) => {
    const at = batch.map((i) => regionOf(file.chunks.offset(i)))
    const digests = new Uint8Array(32 * batch.length)
    for (const [k, i] of batch.entries()) digests.set(file.chunks.digest(i), 32 * k)
    const reply = encodeInPool({
      type: 'encode',
      fd: file.fd,
      offsets: Float64Array.from(batch, (i) => file.chunks.offset(i)),
      sizes: Int32Array.from(batch, (i) => file.chunks.length(i)),
      digests,
      kinds: Uint8Array.from(at, (r) => r.kind),
      phases: Uint8Array.from(at, (r) => r.phase),
      compress: store.compress,
    })
    // Awaited in order below; a failure must not count as unhandled meanwhile.
    reply.catch(() => undefined)
    return reply
  }
  const inFlight: Array<Promise<EncodeReply>> = []
  for (let next = 0, done = 0; done < batches.length; done++) {
    while (next < batches.length && inFlight.length < MAX_WORKERS)
      inFlight.push(request(batches[next++] ?? []))
    const reply = await inFlight.shift()
    if (reply) append(store, file, batches[done] ?? [], reply)
  }
}

function append(store: Store, file: ChunksFromFile, batch: readonly number[], reply: EncodeReply) {
  if (reply.error !== undefined) throw new MlvcError('IO', `${file.path}: ${reply.error}`)
  if (reply.changed >= 0) {
    throw new MlvcError('IO', `${file.path} changed while it was being stored`, {
      hint: 'store it again (git add)',
    })
  }
  for (const [k, i] of batch.entries()) {
    const stored = reply.stored[k]
    const digest = file.chunks.digest(i)
    // A chunk the file holds twice is stored once.
    if (!stored || store.lookup(digest)) continue
    const codec = reply.codecs[k] ?? RAW
    store.writer().append(digest, 'chunk', [stored], { codec, size: file.chunks.length(i) })
  }
}
