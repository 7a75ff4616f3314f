import { fstatSync } from 'node:fs'
import { MlvcError } from '../core/index.ts'
import { parseId, sha256Digest } from './cid.ts'
import { type ChunkRef, type DeltaManifest, decodeManifest, type Manifest } from './manifest.ts'
import type { ByteSource } from './source.ts'
import type { Store } from './store.ts'
import type { Location } from './table.ts'
import { verifyInPool } from './verify-pool.ts'

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
  if (location.length !== length) {
    throw new MlvcError(
      'CORRUPT',
      `chunk ${id}: the store holds ${location.length} bytes, the manifest says ${length}`,
    )
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

/** A whole chunk, checked against its id. */
export function readChunk(store: Store, chunk: ChunkRef): Buffer {
  const location = locate(store, chunk)
  const data = Buffer.allocUnsafe(location.length)
  try {
    store.readPack(location.pack, location.offset, data)
  } catch (err) {
    if (err instanceof MlvcError && err.code === 'CORRUPT')
      throw store.damaged(chunk[0], location, err.message)
    throw err
  }
  if (!sha256Digest(data).equals(parseId(chunk[0]).digest))
    throw store.damaged(chunk[0], location, MISMATCH)
  return data
}

/**
 * Consecutive chunks of a file, read into one buffer of shared memory and checked against their ids
 * by a worker thread (one message for all of them), so the calling thread goes on meanwhile. `into`
 * is used when large enough: reusing shared memory spares the kernel mapping and zeroing fresh
 * pages for every call.
 */
export async function readChunksVerified(
  store: Store,
  refs: readonly ChunkRef[],
  into?: SharedArrayBuffer,
): Promise<Buffer> {
  const n = refs.length
  const fds = new Int32Array(n)
  const offsets = new Float64Array(n)
  const lengths = new Int32Array(n)
  const packs = new Int32Array(n)
  const digests = Buffer.allocUnsafe(32 * n)
  const locations: Location[] = []
  let total = 0
  for (const [i, ref] of refs.entries()) {
    const location = locate(store, ref)
    locations.push(location)
    packs[i] = location.pack
    fds[i] = store.packFd(location.pack)
    offsets[i] = location.offset
    lengths[i] = location.length
    digests.set(parseId(ref[0]).digest, 32 * i)
    total += location.length
  }
  const shared = into && into.byteLength >= total ? into : new SharedArrayBuffer(total)
  const data = Buffer.from(shared, 0, total)
  const reply = await verifyInPool({ data, fds, offsets, lengths, digests })
  if (reply.error !== undefined) throw new MlvcError('IO', `reading the store: ${reply.error}`)
  if (reply.bad >= 0) {
    const location = locations[reply.bad] as Location
    const why = reply.truncated
      ? `the pack has ${fstatSync(fds[reply.bad] as number).size} bytes, the chunk ends at byte ${location.offset + location.length}`
      : MISMATCH
    throw store.damaged((refs[reply.bad] as ChunkRef)[0], location, why)
  }
  return data
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
 * The bytes a manifest describes, front to back. Chunks are read from their packs straight into
 * the caller's buffer; deltas are applied as they stream.
 */
export function contentSource(
  store: Store,
  manifest: Manifest,
  options: ContentOptions = {},
): ByteSource {
  const iterator = pieces(store, manifest, options)[Symbol.asyncIterator]()
  let current: Piece | undefined
  let used = 0
  let ended = false
  return {
    size: manifest.size,
    async read(target) {
      let done = 0
      while (done < target.length && !ended) {
        if (!current) {
          const next = await iterator.next()
          if (next.done) {
            ended = true
            break
          }
          current = next.value
          used = 0
          if (options.verifyChunks && 'chunk' in current)
            current = { bytes: readChunk(store, current.chunk) }
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
