import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync } from 'node:fs'
import { fsError, MlvcError, type ProgressOptions } from '../core/index.ts'
import { sha256Digest } from './cid.ts'
import { putContentManifest } from './content-manifest.ts'
import { createDigestList, type DigestList } from './digest-list.ts'
import { type CdcOptions, type CdcParams, cdcParams, cutPoints } from './fastcdc.ts'
import { type IngestPool, SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import { type ByteSource, fileSource, prefixedSource } from './source.ts'
import type { Store } from './store.ts'

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
   * Cut and hash only: store nothing, and report which chunks the store lacks (`fresh`), so the
   * caller can decide how to store them (a checkpoint tensor may go in as a delta instead).
   * @default false
   */
  dryRun?: boolean
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

function storeChunk(store: Store, tally: Tally, digest: Uint8Array, data: Uint8Array): void {
  const index = tally.chunks.count
  tally.chunks.push(digest, data.length, tally.size)
  tally.size += data.length
  if (tally.fresh.length <= index) {
    const grown = new Uint8Array(Math.max(256, tally.fresh.length * 2))
    grown.set(tally.fresh)
    tally.fresh = grown
  }
  const known = store.lookup(digest)
  if (known) {
    store.freshen(known.pack)
    return
  }
  tally.fresh[index] = 1
  if (tally.dryRun) return
  store.writer().append(digest, 'chunk', [data])
  tally.newChunks++
  tally.newBytes += data.length
}

function chunkInline(
  store: Store,
  bytes: Uint8Array,
  params: CdcParams,
  boundaries: readonly number[],
  tally: Tally,
): string {
  let start = 0
  for (const end of cutPoints(bytes, params, boundaries)) {
    const chunk = bytes.subarray(start, end)
    storeChunk(store, tally, sha256Digest(chunk), chunk)
    start = end
  }
  return createHash('sha256').update(bytes).digest('hex')
}

type ChunksReply = Extract<IngestReply, { type: 'chunks' }>

interface Block {
  slot: number
  chunks: Promise<ChunksReply>
  sha: Promise<unknown>
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
 * which hashes the chunks and replies; a third hashes the whole input. A slot is reused only after
 * the next block's chunks, whose cut read the slot's tail, have come back.
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
  pool.cdc.tell({ type: 'cdc-start', params: options.params })
  pool.sha.tell({ type: 'sha-start' })

  async function readBlock(slot: number): Promise<Block> {
    const dataStart = slot * (SLOT_HEAD + SLOT_DATA) + SLOT_HEAD
    const n = await source.read(ring.subarray(dataStart, dataStart + SLOT_DATA))
    const blockStart = filePos
    filePos += n
    eof = n < SLOT_DATA
    const end = dataStart + n
    const forced: number[] = []
    while (nextBoundary < boundaries.length && (boundaries[nextBoundary] as number) <= filePos) {
      const at = boundaries[nextBoundary++] as number
      if (at > blockStart) forced.push(dataStart + (at - blockStart))
    }
    const sha = pool.sha.ask({ type: 'sha', id: slot, from: dataStart, to: end })
    const chunks = pool.digests.expect<ChunksReply>()
    pool.cdc.tell({ type: 'cdc', id: slot, dataStart, end, eof, forced })
    return { slot, chunks, sha, filePos }
  }

  const queue: Block[] = []
  let previous: Block | undefined
  for (;;) {
    while (!eof && free.length > 0) queue.push(await readBlock(free.shift() as number))
    const block = queue.shift()
    if (!block) break
    if (options.signal?.aborted) {
      throw new MlvcError('INTERRUPTED', `interrupted while storing ${options.path}`)
    }
    const { starts, lengths, digests } = await block.chunks
    if (previous) {
      await previous.sha
      free.push(previous.slot)
    }
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i] as number
      const chunk = ring.subarray(start, start + (lengths[i] as number))
      storeChunk(store, tally, digests.subarray(i * 32, i * 32 + 32), chunk)
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
  const boundaries = options.boundaries ?? []
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
    sha256 = chunkInline(
      store,
      bytes.subarray(0, await source.read(bytes)),
      params,
      boundaries,
      tally,
    )
  } else {
    if (!probe || probe.length < limit + 1) probe = Buffer.allocUnsafe(limit + 1)
    const head = probe.subarray(0, await source.read(probe.subarray(0, limit + 1)))
    if (head.length <= limit) {
      sha256 = chunkInline(store, head, params, boundaries, tally)
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

/** Runs `task` with the file open as a source; errors name the file. */
export async function withFileSource<T>(
  path: string,
  task: (source: ByteSource) => Promise<T>,
): Promise<T> {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new MlvcError('USAGE', `${path} is a directory`)
    return await task(fileSource(fd, stat.size))
  } catch (err) {
    throw fsError(err, 'storing', path)
  } finally {
    closeSync(fd)
  }
}

/** Stores a file (see ingestSource). */
export async function ingestFile(
  store: Store,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  return withFileSource(path, (source) => ingestSource(store, source, { ...options, path }))
}
