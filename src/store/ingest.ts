import { closeSync } from 'node:fs'
import {
  fsError,
  MlvcError,
  openForReading,
  type ProgressOptions,
  sha256Hex,
} from '../core/index.ts'
import { sha256Digest } from './cid.ts'
import { putContentManifest } from './content-manifest.ts'
import { createDigestList, type DigestList } from './digest-list.ts'
import { type DataRegion, dataKindOf, type Encoded, encodeObject, RAW } from './encoding.ts'
import { type CdcOptions, type CdcParams, cdcParams, cutPoints } from './fastcdc.ts'
import { type IngestPool, SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import { type RegionAt, regionCursor, regionTable } from './regions.ts'
import { type ByteSource, fileSource, prefixedSource } from './source.ts'
import type { Store } from './store.ts'
import { encodeInPool, MAX_WORKERS } from './verify-pool.ts'
import type { EncodeReply } from './verify-worker.ts'

export interface IngestOptions extends ProgressOptions {
  cdc?: CdcOptions
  /** Inputs up to this size are chunked on the calling thread. @default 8 MiB */
  inlineLimit?: number
  /**
   * Sorted byte offsets where a chunk must end (a checkpoint's tensor boundaries), so that equal
   * regions always yield equal chunks wherever they sit.
   */
  boundaries?: readonly number[]
  /**
   * What the input holds where (a checkpoint's float tensors), sorted by start, so that each chunk
   * is encoded for its data; bytes before the first region, and inputs without regions, are plain
   * bytes (the general codec).
   */
  regions?: readonly DataRegion[]
  /**
   * Cut and hash only: store nothing, and report which chunks the store lacks (`fresh`), so the
   * caller can decide how to store them (a checkpoint tensor may go in as a delta instead).
   * @default false
   */
  dryRun?: boolean
  /**
   * Encode new chunks where that shrinks them, whatever the store's own setting (Store.compress):
   * for metadata and deltas, small and worth it at any cost. @default store.compress
   */
  compress?: boolean
}

/** What chunking stored: every chunk (digest, length, offset in the input), in order. */
export interface ChunkedContent {
  size: number
  sha256: string
  chunks: DigestList
  /** fresh[i] is 1 when chunk i was not in the store before this call. */
  fresh: Uint8Array
  /** Chunks and bytes this call added to the store (the rest were there already). */
  newChunks: number
  newBytes: number
}

export interface IngestResult {
  /** The blob manifest's id. */
  id: string
  size: number
  sha256: string
  chunks: number
  newChunks: number
  newBytes: number
}

interface Tally {
  chunks: DigestList
  fresh: Uint8Array
  size: number
  newChunks: number
  newBytes: number
  dryRun: boolean
}

/**
 * Lists a chunk; returns true when it is new and to be stored (not in the store, not a dry run).
 * The caller then appends it before listing any later chunk that may repeat it.
 */
function listChunk(store: Store, tally: Tally, digest: Uint8Array, length: number): boolean {
  const index = tally.chunks.count
  tally.chunks.push(digest, length, tally.size)
  tally.size += length
  if (tally.fresh.length <= index) {
    const grown = new Uint8Array(Math.max(256, tally.fresh.length * 2))
    grown.set(tally.fresh)
    tally.fresh = grown
  }
  const known = store.lookup(digest)
  if (known) {
    store.freshen(known.pack)
    return false
  }
  tally.fresh[index] = 1
  if (tally.dryRun) return false
  tally.newChunks++
  tally.newBytes += length
  return true
}

function appendChunk(store: Store, digest: Uint8Array, data: Uint8Array, encoded?: Encoded): void {
  if (!encoded) store.writer().append(digest, 'chunk', [data])
  else
    store
      .writer()
      .append(digest, 'chunk', [encoded.bytes], { codec: encoded.codec, size: data.length })
}

/**
 * Chunks a small input on the calling thread; new chunks are encoded here too (at most the inline
 * limit, 8 MiB, of data per input).
 */
function chunkInline(
  store: Store,
  bytes: Uint8Array,
  params: CdcParams,
  options: IngestOptions,
  tally: Tally,
): string {
  const regionOf = regionCursor(regionTable(options.regions ?? []))
  const cuts = cutPoints(bytes, params, options.boundaries ?? [])
  let start = 0
  let digest: Buffer | undefined
  for (const end of cuts) {
    const chunk = bytes.subarray(start, end)
    const at = regionOf(tally.size)
    digest = sha256Digest(chunk)
    if (listChunk(store, tally, digest, chunk.length)) {
      const encoded =
        (options.compress ?? store.compress)
          ? encodeObject(chunk, dataKindOf(at.kind), at.phase)
          : undefined
      appendChunk(store, digest, chunk, encoded)
    }
    start = end
  }
  // A file of one chunk: its sha-256 is the chunk's (hashed once, not twice).
  return cuts.length === 1 && digest ? digest.toString('hex') : sha256Hex(bytes)
}

/** A new chunk in the ring, waiting to be encoded and stored. */
interface NewChunk {
  digest: Uint8Array
  start: number
  length: number
  at: RegionAt
}

/** Runs of at least this many bytes are encoded by all the store workers, shared out. */
const SPLIT = 2 * 1024 * 1024

/**
 * Encodes new chunks of the ring on the store workers (shared out by bytes), then appends them in
 * order; resolves when they are all in the pack.
 */
async function encodeAndAppend(store: Store, ring: Uint8Array, chunks: NewChunk[]): Promise<void> {
  let total = 0
  for (const c of chunks) total += c.length
  const parts = total >= SPLIT ? MAX_WORKERS : 1
  const requests: Array<Promise<EncodeReply>> = []
  const bounds: number[] = [0]
  for (let part = 1, first = 0, bytes = 0; part <= parts && first < chunks.length; part++) {
    let last = first
    while (last < chunks.length && (bytes < (total * part) / parts || last === first))
      bytes += chunks[last++]?.length ?? 0
    const batch = chunks.slice(first, last)
    const request = encodeInPool({
      type: 'encode',
      source: ring,
      offsets: Float64Array.from(batch, (c) => c.start),
      sizes: Int32Array.from(batch, (c) => c.length),
      kinds: Uint8Array.from(batch, (c) => c.at.kind),
      phases: Uint8Array.from(batch, (c) => c.at.phase),
      compress: true,
    })
    // Awaited in order below; a failure of one must not count as unhandled meanwhile.
    request.catch(() => undefined)
    requests.push(request)
    bounds.push(last)
    first = last
  }
  for (const [part, request] of requests.entries()) {
    const reply = await request
    if (reply.error !== undefined) throw new MlvcError('IO', `encoding chunks: ${reply.error}`)
    for (let i = bounds[part] ?? 0, k = 0; i < (bounds[part + 1] ?? 0); i++, k++) {
      const chunk = chunks[i]
      if (!chunk) continue
      const data = ring.subarray(chunk.start, chunk.start + chunk.length)
      const codec = reply.codecs[k] ?? RAW
      const bytes = reply.stored[k]
      appendChunk(store, chunk.digest, data, codec === RAW || !bytes ? undefined : { codec, bytes })
    }
  }
}

type ChunksReply = Extract<IngestReply, { type: 'chunks' }>

interface Block {
  slot: number
  chunks: Promise<ChunksReply>
  sha: Promise<unknown>
  /** Its new chunks encoded and appended (they are read from the slot until then). */
  stored: Promise<void>
  filePos: number
}

interface PipeOptions extends IngestOptions {
  path: string
  total: number
  params: CdcParams
}

/**
 * The pipeline for large inputs. The main thread reads blocks into ring slots and appends new
 * chunks to a pack; one worker cuts chunks (it first copies the chunk left open by the previous
 * block into this slot's headroom, so every chunk is contiguous) and hands the cuts to a second,
 * which hashes the chunks and replies; a third hashes the whole input. The chunks of a block that
 * the store lacks are encoded on the store workers while the next block is cut and hashed, and
 * appended in order. A slot is reused only after the next block's chunks, whose cut read the
 * slot's tail, have come back, and its own new chunks are stored.
 */
async function chunkPiped(
  pool: IngestPool,
  store: Store,
  source: ByteSource,
  tally: Tally,
  options: PipeOptions,
): Promise<string> {
  if (options.params.maxSize > SLOT_HEAD) {
    throw new MlvcError('USAGE', `chunk maxSize over ${SLOT_HEAD} bytes is not supported`)
  }
  const { ring } = pool
  const boundaries = options.boundaries ?? []
  const free = Array.from({ length: SLOTS }, (_, i) => i)
  let filePos = 0
  let nextBoundary = 0
  let eof = false
  const regions = options.regions ? regionTable(options.regions) : undefined
  // Unsampled chunks are all stored raw: a dry run stores nothing, an uncompressed store encodes nothing.
  const sample = !tally.dryRun && (options.compress ?? store.compress)
  pool.cdc.tell({ type: 'cdc-start', params: options.params, regions, sample })
  pool.sha.tell({ type: 'sha-start' })

  async function readBlock(slot: number): Promise<Block> {
    const dataStart = slot * (SLOT_HEAD + SLOT_DATA) + SLOT_HEAD
    const n = await source.read(ring.subarray(dataStart, dataStart + SLOT_DATA))
    const blockStart = filePos
    filePos += n
    eof = n < SLOT_DATA
    const end = dataStart + n
    const forced: number[] = []
    for (let at = boundaries[nextBoundary]; at !== undefined && at <= filePos; ) {
      if (at > blockStart) forced.push(dataStart + (at - blockStart))
      at = boundaries[++nextBoundary]
    }
    const sha = pool.sha.ask({ type: 'sha', id: slot, from: dataStart, to: end })
    const chunks = pool.digests.expect<ChunksReply>()
    pool.cdc.tell({ type: 'cdc', id: slot, dataStart, end, filePos: blockStart, eof, forced })
    return { slot, chunks, sha, stored: Promise.resolve(), filePos }
  }

  const queue: Block[] = []
  let previous: Block | undefined
  for (;;) {
    while (!eof) {
      const slot = free.shift()
      if (slot === undefined) break
      queue.push(await readBlock(slot))
    }
    const block = queue.shift()
    if (!block) break
    if (options.signal?.aborted) {
      throw new MlvcError('INTERRUPTED', `interrupted while storing ${options.path}`)
    }
    const { starts, lengths, digests, kinds, phases, encodable } = await block.chunks
    if (previous) {
      await previous.sha
      await previous.stored
      free.push(previous.slot)
    }
    const fresh: NewChunk[] = []
    const seen = new Set<string>()
    for (let i = 0; i < starts.length; i++) {
      const digest = digests.subarray(i * 32, i * 32 + 32)
      const length = lengths[i] ?? 0
      if (!listChunk(store, tally, digest, length)) continue
      const start = starts[i] ?? 0
      // What the digest worker's samples say will not shrink is appended here at once.
      if (!encodable?.[i]) {
        appendChunk(store, digest, ring.subarray(start, start + length))
        continue
      }
      // A chunk the block holds twice is stored once (the first is not in the pack yet).
      const key = Buffer.from(digest).toString('hex')
      if (seen.has(key)) {
        tally.newChunks--
        tally.newBytes -= length
        continue
      }
      seen.add(key)
      fresh.push({ digest, start, length, at: { kind: kinds?.[i] ?? 0, phase: phases?.[i] ?? 0 } })
    }
    if (fresh.length > 0) {
      block.stored = encodeAndAppend(store, ring, fresh)
      // Awaited before the slot is reused; until then a failure must not count as unhandled.
      block.stored.catch(() => undefined)
    }
    options.onProgress?.({
      type: 'ingest',
      path: options.path,
      done: block.filePos,
      total: options.total,
    })
    previous = block
  }
  await previous?.sha
  await previous?.stored
  const end = await pool.sha.ask<Extract<IngestReply, { type: 'sha-end' }>>({
    type: 'sha-end',
    id: -1,
  })
  return Buffer.from(end.digest).toString('hex')
}

/** Reused for the small-input probe, so many small files do not allocate 8 MiB each. */
let probe: Buffer | undefined

/**
 * Stores a byte source as content-defined chunks (new ones appended to a pack) and returns the
 * chunk list; no manifest. Inputs up to `inlineLimit` are chunked on the calling thread, larger
 * ones in the worker pipeline. Objects are durable and visible to other processes only after
 * `store.commit()`.
 */
export async function chunkSource(
  store: Store,
  source: ByteSource,
  options: IngestOptions & { path: string },
): Promise<ChunkedContent> {
  const params = cdcParams(options.cdc)
  const limit = options.inlineLimit ?? SLOT_DATA
  const tally: Tally = {
    chunks: createDigestList(),
    fresh: new Uint8Array(0),
    size: 0,
    newChunks: 0,
    newBytes: 0,
    dryRun: options.dryRun === true,
  }
  let sha256: string
  if (source.size !== undefined && source.size <= limit) {
    const bytes = Buffer.allocUnsafe(source.size)
    sha256 = chunkInline(store, bytes.subarray(0, await source.read(bytes)), params, options, tally)
  } else {
    if (!probe || probe.length < limit + 1) probe = Buffer.allocUnsafe(limit + 1)
    const head = probe.subarray(0, await source.read(probe.subarray(0, limit + 1)))
    if (head.length <= limit) {
      sha256 = chunkInline(store, head, params, options, tally)
    } else {
      const rest = prefixedSource(Buffer.from(head), source)
      const pipe: PipeOptions = { ...options, params, total: source.size ?? 0 }
      sha256 = await withIngestPool((pool) => chunkPiped(pool, store, rest, tally, pipe))
    }
  }
  return {
    size: tally.size,
    sha256,
    chunks: tally.chunks,
    fresh: tally.fresh.subarray(0, tally.chunks.count),
    newChunks: tally.newChunks,
    newBytes: tally.newBytes,
  }
}

/** Stores a byte source and its blob manifest (see chunkSource). */
export async function ingestSource(
  store: Store,
  source: ByteSource,
  options: IngestOptions & { path: string },
): Promise<IngestResult> {
  const content = await chunkSource(store, source, options)
  const id = putContentManifest(store, content.size, content.sha256, content.chunks)
  return {
    id,
    size: content.size,
    sha256: content.sha256,
    chunks: content.chunks.count,
    newChunks: content.newChunks,
    newBytes: content.newBytes,
  }
}

/** Stores a file (see ingestSource); errors name the file. */
export async function ingestFile(
  store: Store,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const { fd, size } = openForReading(path)
  try {
    return await ingestSource(store, fileSource(fd, size), { ...options, path })
  } catch (err) {
    throw fsError(err, 'storing', path)
  } finally {
    closeSync(fd)
  }
}
