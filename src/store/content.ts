import { fstatSync } from 'node:fs'
import { isMlvcError, MlvcError } from '../core/index.ts'
import { parseId } from './cid.ts'
import { checkEncodedSize, decodeInto, RAW } from './encoding.ts'
import { type ChunkRef, type DeltaManifest, decodeManifest, type Manifest } from './manifest.ts'
import type { ByteSource } from './source.ts'
import type { Store } from './store.ts'
import type { Location } from './table.ts'
import { MAX_WORKERS, readInPool } from './verify-pool.ts'

/**
 * Applies a delta manifest's patch to its base's bytes. The store keeps deltas but does not know
 * their format; the layer that writes them (checkpoints, over src/tensors) provides this.
 */
export interface DeltaCodec {
  apply(
    base: AsyncIterable<Uint8Array>,
    patch: Uint8Array,
    delta: DeltaManifest,
  ): AsyncIterable<Uint8Array>
}

export interface ContentOptions {
  deltas?: DeltaCodec | undefined
  /**
   * Check every chunk against its id as it is read. Whole files are checked by their sha-256 at
   * the end instead; a part read on its own (for a diff or a merge) has no such check.
   */
  verifyChunks?: boolean
}

export async function readManifest(store: Store, id: string): Promise<Manifest> {
  if (parseId(id).kind !== 'manifest') {
    throw new MlvcError('BAD_ID', `${id} is a chunk id, not a file id`, {
      hint: 'use the id that mlvc put printed',
    })
  }
  return decodeManifest(await store.readObject(id), id)
}

function locate(store: Store, [id, length]: ChunkRef) {
  const location = store.lookup(parseId(id).digest)
  if (!location) {
    throw new MlvcError(
      'MISSING_OBJECT',
      `chunk ${id} is missing from the store at ${store.layout.root}`,
      {
        hint: 'fetch it from a remote (mlvc pull), or run mlvc fsck',
      },
    )
  }
  // The manifest was checked against its id: a stored copy of another size is damaged.
  if (location.size !== length) {
    const why = `its record states ${location.size} bytes, its manifest ${length}`
    throw store.damaged(id, location, why)
  }
  return location
}

/** One piece of content: a chunk read on demand, or bytes produced by applying a delta. */
type Piece = { chunk: ChunkRef } | { bytes: Uint8Array }

async function* pieces(
  store: Store,
  manifest: Manifest,
  options: ContentOptions,
): AsyncIterable<Piece> {
  switch (manifest.type) {
    case 'blob':
    case 'part':
      for (const chunk of manifest.chunks) yield { chunk }
      return
    case 'file':
      for (const part of manifest.parts) {
        if ('chunks' in part) for (const chunk of part.chunks) yield { chunk }
        else yield* pieces(store, await readManifest(store, part.ref), options)
      }
      return
    case 'delta': {
      if (!options.deltas) {
        throw new MlvcError(
          'CORRUPT',
          `delta ${manifest.content} needs the checkpoint layer to be read`,
        )
      }
      const patch = Buffer.concat(manifest.patch.map((c) => readChunk(store, c)))
      const base = blocks(
        contentSource(store, await readManifest(store, manifest.base), {
          ...options,
          verifyChunks: true,
        }),
      )
      for await (const bytes of options.deltas.apply(base, patch, manifest)) yield { bytes }
      return
    }
  }
}

const MISMATCH = 'its bytes do not match its id'

/** A whole chunk, decoded and checked against its id. */
export function readChunk(store: Store, chunk: ChunkRef): Buffer {
  return store.readAt(chunk[0], locate(store, chunk))
}

/** Runs of at least this many bytes are shared among the workers. */
const SPLIT = 2 * 1024 * 1024

/**
 * Reads consecutive chunks into `target` (shared memory, exactly their total size) on worker
 * threads, which decode them and, with `verify`, check them against their ids; a large run is
 * split among the workers. Damage is recorded and thrown, naming the chunk and its pack.
 */
async function readRunInPool(
  store: Store,
  refs: readonly ChunkRef[],
  target: Uint8Array,
  verify: boolean,
): Promise<void> {
  const n = refs.length
  const fds = new Int32Array(n)
  const offsets = new Float64Array(n)
  const lengths = new Int32Array(n)
  const codecs = new Uint8Array(n)
  const sizes = new Int32Array(n)
  const digests = new Uint8Array(verify ? 32 * n : 0)
  const locations: Location[] = []
  for (const [i, ref] of refs.entries()) {
    const location = locate(store, ref)
    locations.push(location)
    fds[i] = store.packFd(location.pack)
    offsets[i] = location.offset
    lengths[i] = location.length
    codecs[i] = location.codec
    sizes[i] = location.size
    if (verify) digests.set(parseId(ref[0]).digest, 32 * i)
  }
  const parts = target.length >= SPLIT ? MAX_WORKERS : 1
  const requests: Array<Promise<void>> = []
  let first = 0
  let at = 0
  for (let part = 1; part <= parts && first < n; part++) {
    // Chunks [first, last) go to this worker: about an equal share of the bytes.
    const goal = (target.length * part) / parts
    let last = first
    let end = at
    while (last < n && (end < goal || last === first)) end += sizes[last++] ?? 0
    const from = first
    const request = readInPool({
      type: 'read',
      data: target.subarray(at, end),
      fds: fds.subarray(from, last),
      offsets: offsets.subarray(from, last),
      lengths: lengths.subarray(from, last),
      codecs: codecs.subarray(from, last),
      sizes: sizes.subarray(from, last),
      digests: verify ? digests.subarray(32 * from, 32 * last) : undefined,
    }).then((reply) => {
      if (reply.error !== undefined) throw new MlvcError('IO', `reading the store: ${reply.error}`)
      if (reply.bad < 0) return
      const i = from + reply.bad
      const location = locations[i]
      const ref = refs[i]
      if (!location || !ref) return
      const why = reply.truncated
        ? `the pack has ${fstatSync(fds[i] ?? -1).size} bytes, the chunk ends at byte ${location.offset + location.length}`
        : (reply.why ?? MISMATCH)
      throw store.damaged(ref[0], location, why)
    })
    // Awaited below; a failure of one must not count as unhandled while another is awaited.
    request.catch(() => undefined)
    requests.push(request)
    first = last
    at = end
  }
  for (const request of requests) await request
}

/**
 * Consecutive chunks of a file, read into one buffer of shared memory, decoded and checked against
 * their ids by worker threads (one message per worker for all of them), so the calling thread goes
 * on meanwhile. `into` is used when large enough: reusing shared memory spares the kernel mapping
 * and zeroing fresh pages for every call.
 */
export async function readChunksVerified(
  store: Store,
  refs: readonly ChunkRef[],
  into?: SharedArrayBuffer,
): Promise<Buffer> {
  let total = 0
  for (const [, size] of refs) total += size
  const shared = into && into.byteLength >= total ? into : new SharedArrayBuffer(total)
  const data = Buffer.from(shared, 0, total)
  await readRunInPool(store, refs, data, true)
  return data
}

/**
 * Reads whole chunks into `target` (exactly their total size). Raw chunks that need no check are
 * read straight from their packs here; otherwise shared memory goes to worker threads, and other
 * memory (small files) is decoded and checked here.
 */
async function readRun(
  store: Store,
  refs: readonly ChunkRef[],
  target: Uint8Array,
  verify: boolean,
): Promise<void> {
  const locations = refs.map((ref) => locate(store, ref))
  if (!verify && locations.every((l) => l.codec === RAW)) {
    let at = 0
    for (const l of locations) {
      store.readPack(l.pack, l.offset, target.subarray(at, at + l.size))
      at += l.size
    }
    return
  }
  if (target.buffer instanceof SharedArrayBuffer) return readRunInPool(store, refs, target, verify)
  let at = 0
  for (const [i, location] of locations.entries()) {
    const id = refs[i]?.[0] ?? ''
    const into = target.subarray(at, at + location.size)
    if (verify) into.set(store.readAt(id, location))
    else decodeAt(store, id, location, into)
    at += location.size
  }
}

/** Decodes the object at `location` into `target`, unchecked; damage is recorded and thrown. */
function decodeAt(store: Store, id: string, location: Location, target: Uint8Array): void {
  try {
    if (location.codec === RAW && location.length === location.size) {
      store.readPack(location.pack, location.offset, target)
      return
    }
    checkEncodedSize(location.codec, location.length, target.length)
    const stored = Buffer.allocUnsafe(location.length)
    store.readPack(location.pack, location.offset, stored)
    decodeInto(stored, location.codec, target)
  } catch (err) {
    if (isMlvcError(err, 'CORRUPT')) throw store.damaged(id, location, err.message)
    throw err
  }
}

/** Reads a source in fresh 1 MiB blocks (for consumers that keep what they receive). */
export async function* blocks(source: ByteSource, size = 1024 * 1024): AsyncIterable<Uint8Array> {
  for (;;) {
    const block = Buffer.allocUnsafe(size)
    const n = await source.read(block)
    if (n === 0) return
    yield block.subarray(0, n)
    if (n < size) return
  }
}

/**
 * The bytes a manifest describes, front to back. Runs of whole chunks are read straight into the
 * caller's buffer (decoded and, with verifyChunks, checked on worker threads when it is shared
 * memory; see readRun); a chunk cut by the end of the buffer is read in part, or decoded whole
 * first; deltas are applied as they stream.
 */
export function contentSource(
  store: Store,
  manifest: Manifest,
  options: ContentOptions = {},
): ByteSource {
  const iterator = pieces(store, manifest, options)[Symbol.asyncIterator]()
  const verify = options.verifyChunks === true
  /** A piece taken from the iterator and not started yet. */
  let pending: Piece | undefined
  /** The piece being read, and how much of it was. */
  let current: Piece | undefined
  let used = 0
  let ended = false
  /** Shared memory for the one chunk decoded whole at a time (see read). */
  let spare: SharedArrayBuffer | undefined
  const next = async (): Promise<Piece | undefined> => {
    const piece = pending
    pending = undefined
    if (piece || ended) return piece
    const step = await iterator.next()
    if (!step.done) return step.value
    ended = true
    return undefined
  }
  /** Whole chunks from `first` on that fit in `room` bytes (the next piece waits in pending). */
  const runFrom = async (first: ChunkRef, room: number): Promise<ChunkRef[]> => {
    const run = [first]
    let bytes = first[1]
    for (let piece = await next(); piece; piece = await next()) {
      if (!('chunk' in piece) || bytes + piece.chunk[1] > room) {
        pending = piece
        break
      }
      run.push(piece.chunk)
      bytes += piece.chunk[1]
    }
    return run
  }
  return {
    size: manifest.size,
    async read(target) {
      let done = 0
      while (done < target.length) {
        if (!current) {
          const piece = await next()
          if (!piece) break
          const room = target.length - done
          if ('chunk' in piece && piece.chunk[1] <= room) {
            const run = await runFrom(piece.chunk, room)
            let bytes = 0
            for (const [, size] of run) bytes += size
            await readRun(store, run, target.subarray(done, done + bytes), verify)
            done += bytes
            continue
          }
          current = piece
          used = 0
          if ('chunk' in current && (verify || locate(store, current.chunk).codec !== RAW)) {
            // Decoded whole, then served in parts; from shared memory (on a worker) when the
            // caller reads into shared memory, as checkouts of large files do.
            const size = current.chunk[1]
            let whole: Uint8Array = Buffer.allocUnsafe(size)
            if (target.buffer instanceof SharedArrayBuffer) {
              if (!spare || spare.byteLength < size) spare = new SharedArrayBuffer(size)
              whole = new Uint8Array(spare, 0, size)
            }
            await readRun(store, [current.chunk], whole, verify)
            current = { bytes: whole }
          }
        }
        const total = 'chunk' in current ? current.chunk[1] : current.bytes.length
        const n = Math.min(total - used, target.length - done)
        const into = target.subarray(done, done + n)
        if ('chunk' in current) {
          const location = locate(store, current.chunk)
          store.readPack(location.pack, location.offset + used, into)
        } else {
          into.set(current.bytes.subarray(used, used + n))
        }
        used += n
        done += n
        if (used === total) current = undefined
      }
      return done
    },
  }
}
