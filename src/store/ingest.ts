import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { fsError, MlvcError, type ProgressOptions } from '../core/index.ts'
import { formatId, sha256Digest } from './cid.ts'
import { type CdcOptions, type CdcParams, cdcParams, cutPoints } from './fastcdc.ts'
import { type IngestPool, SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import { type BlobManifest, encodeManifest } from './manifest.ts'
import type { Store } from './store.ts'

export interface IngestOptions extends ProgressOptions {
  cdc?: CdcOptions
  /** Files up to this size are chunked on the calling thread. @default 8 MiB */
  inlineLimit?: number
}

export interface IngestResult {
  /** The blob manifest's id. */
  id: string
  size: number
  sha256: string
  chunks: number
  /** Chunks and bytes this call added to the store (the rest were there already). */
  newChunks: number
  newBytes: number
}

interface Tally {
  chunks: Array<[string, number]>
  newChunks: number
  newBytes: number
}

function storeChunk(store: Store, tally: Tally, digest: Uint8Array, data: Uint8Array): void {
  tally.chunks.push([formatId('chunk', digest), data.length])
  const known = store.lookup(digest)
  if (known) {
    store.freshen(known.pack)
    return
  }
  store.writer().append(digest, 'chunk', [data])
  tally.newChunks++
  tally.newBytes += data.length
}

function readFully(
  fd: number,
  target: Uint8Array,
  offset: number,
  length: number,
  pos: number,
): number {
  let done = 0
  while (done < length) {
    const n = readSync(fd, target, offset + done, length - done, pos + done)
    if (n === 0) break
    done += n
  }
  return done
}

function ingestInline(
  store: Store,
  fd: number,
  size: number,
  params: CdcParams,
  tally: Tally,
): string {
  const data = Buffer.allocUnsafe(size)
  const n = readFully(fd, data, 0, size, 0)
  const bytes = data.subarray(0, n)
  let start = 0
  for (const end of cutPoints(bytes, params)) {
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

/**
 * The pipeline for large files. The main thread reads blocks into ring slots and appends new chunks
 * to a pack; one worker cuts chunks (it first copies the chunk left open by the previous block into
 * this slot's headroom, so every chunk is contiguous) and hands the cuts to a second, which hashes
 * the chunks and replies; a third hashes the whole file. A slot is reused only after the next
 * block's chunks, whose cut read the slot's tail, have come back.
 */
async function ingestPiped(
  pool: IngestPool,
  store: Store,
  fd: number,
  params: CdcParams,
  tally: Tally,
  options: IngestOptions & { path: string; total: number },
): Promise<string> {
  if (params.maxSize > SLOT_HEAD) {
    throw new MlvcError('USAGE', `chunk maxSize over ${SLOT_HEAD} bytes is not supported`)
  }
  const { ring } = pool
  const free = Array.from({ length: SLOTS }, (_, i) => i)
  let filePos = 0
  let eof = false
  pool.cdc.tell({ type: 'cdc-start', params })
  pool.sha.tell({ type: 'sha-start' })

  function readBlock(slot: number): Block {
    const dataStart = slot * (SLOT_HEAD + SLOT_DATA) + SLOT_HEAD
    const n = readFully(fd, ring, dataStart, SLOT_DATA, filePos)
    filePos += n
    eof = n < SLOT_DATA
    const end = dataStart + n
    const sha = pool.sha.ask({ type: 'sha', id: slot, from: dataStart, to: end })
    const chunks = pool.digests.expect<ChunksReply>()
    pool.cdc.tell({ type: 'cdc', id: slot, dataStart, end, eof })
    return { slot, chunks, sha, filePos }
  }

  const queue: Block[] = []
  let previous: Block | undefined
  for (;;) {
    while (!eof && free.length > 0) queue.push(readBlock(free.shift() as number))
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

/**
 * Stores a file: content-defined chunks (new ones appended to a pack) and a blob manifest. The
 * objects are durable and visible to other processes only after `store.commit()`.
 */
export async function ingestFile(
  store: Store,
  path: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const params = cdcParams(options.cdc)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  const tally: Tally = { chunks: [], newChunks: 0, newBytes: 0 }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new MlvcError('USAGE', `${path} is a directory`)
    const total = stat.size
    let sha256: string
    if (total <= (options.inlineLimit ?? SLOT_DATA)) {
      sha256 = ingestInline(store, fd, total, params, tally)
    } else {
      sha256 = await withIngestPool((pool) =>
        ingestPiped(pool, store, fd, params, tally, { ...options, path, total }),
      )
    }
    const size = tally.chunks.reduce((sum, [, length]) => sum + length, 0)
    const manifest: BlobManifest = { type: 'blob', size, sha256, chunks: tally.chunks }
    const id = store.putObject('manifest', encodeManifest(manifest))
    return {
      id,
      size,
      sha256,
      chunks: tally.chunks.length,
      newChunks: tally.newChunks,
      newBytes: tally.newBytes,
    }
  } catch (err) {
    throw fsError(err, 'storing', path)
  } finally {
    closeSync(fd)
  }
}
