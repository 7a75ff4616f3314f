/**
 * Worker side of the ingest pipeline (see ingest.ts). One worker cuts chunks and passes the cuts
 * straight to a second that hashes the chunks, samples them (which may shrink: encoding.ts) and
 * replies; a third hashes the whole file. All read the shared ring that the main thread fills;
 * none copies it.
 */
import { createHash, type Hash } from 'node:crypto'
import { writeSync } from 'node:fs'
import { type MessagePort, parentPort } from 'node:worker_threads'
import { dataKindOf, mayEncode } from './encoding.ts'
import { type CdcParams, type Cutter, createCutter } from './fastcdc.ts'
import { type RegionAt, type RegionTable, regionCursor, regionTable } from './regions.ts'

export type IngestRequest =
  /** `next`: where a cutter sends its cuts to be hashed (a port to the digest worker). */
  | { type: 'init'; ring: SharedArrayBuffer; next?: MessagePort }
  /**
   * A new input: how to cut it, and, when its chunks are to be stored, what data it holds where
   * (see IngestOptions.regions; none: plain bytes).
   */
  | { type: 'cdc-start'; params: CdcParams; regions?: RegionTable | undefined; sample: boolean }
  /**
   * Cut ring[dataStart, end), new input data from offset `filePos` on, continuing the chunk left
   * open by the previous block: its bytes are first copied from the previous block's tail to just
   * before dataStart.
   */
  | {
      type: 'cdc'
      id: number
      dataStart: number
      end: number
      filePos: number
      eof: boolean
      /** Ring positions in (dataStart, end] where a chunk must end (tensor boundaries). */
      forced?: number[]
    }
  | { type: 'sha-start' }
  | { type: 'sha'; id: number; from: number; to: number }
  | { type: 'sha-end'; id: number }
  | {
      type: 'digests'
      id: number
      starts: Uint32Array<ArrayBuffer>
      lengths: Uint32Array<ArrayBuffer>
      /** Each chunk's data kind (code) and phase, when the chunks are to be sampled. */
      kinds?: Uint8Array<ArrayBuffer>
      phases?: Uint8Array<ArrayBuffer>
    }
  /** Writes ring[from, to) to the file descriptor at `position` (materializing runs it here). */
  | { type: 'write'; id: number; fd: number; position: number; from: number; to: number }

/** The reply to a 'cdc' request comes from the digest worker, with the chunks' digests. */
export type IngestReply =
  | {
      type: 'chunks'
      id: number
      /** Ring offsets and lengths of the chunks that ended in this block. */
      starts: Uint32Array<ArrayBuffer>
      lengths: Uint32Array<ArrayBuffer>
      digests: Uint8Array<ArrayBuffer>
      /**
       * With sampling: each chunk's data kind and phase, and 1 where its samples say an encoding
       * may shrink it (mayEncode); the rest is stored raw without reaching a codec.
       */
      kinds?: Uint8Array<ArrayBuffer>
      phases?: Uint8Array<ArrayBuffer>
      encodable?: Uint8Array<ArrayBuffer>
    }
  | { type: 'sha'; id: number }
  | { type: 'write'; id: number; error?: string; code?: string }
  | { type: 'sha-end'; id: number; digest: Uint8Array<ArrayBuffer> }

let ring: Uint8Array = new Uint8Array(0)
let next: MessagePort | undefined
let cutter: Cutter | undefined
let regionOf: ((offset: number) => RegionAt) | undefined
let fileHash: Hash | undefined
/** The open chunk at the end of the last block: ring range. */
let tail = { start: 0, end: 0 }

function cutBlock(req: Extract<IngestRequest, { type: 'cdc' }>): IngestRequest {
  const active = cutter ?? createCutter()
  const carried = tail.end - tail.start
  const from = req.dataStart - carried
  ring.copyWithin(from, tail.start, tail.end)
  const forced = req.forced ?? []
  const starts: number[] = []
  const lengths: number[] = []
  let chunkStart = from
  let pos = req.dataStart
  let next = 0
  const emit = (end: number) => {
    starts.push(chunkStart)
    lengths.push(end - chunkStart)
    chunkStart = end
    pos = end
  }
  while (pos < req.end) {
    const limit = next < forced.length ? Math.min(forced[next] ?? req.end, req.end) : req.end
    const cut = active.next(ring, pos, limit)
    if (cut >= 0) {
      emit(cut)
    } else if (next < forced.length && limit === forced[next]) {
      next++
      if (limit > chunkStart) emit(limit)
      active.reset()
      pos = limit
    } else {
      break
    }
  }
  if (req.eof && chunkStart < req.end) emit(req.end)
  tail = req.eof ? { start: 0, end: 0 } : { start: chunkStart, end: req.end }
  return {
    type: 'digests',
    id: req.id,
    starts: Uint32Array.from(starts),
    lengths: Uint32Array.from(lengths),
    ...regionsOf(starts, req),
  }
}

/** Each chunk's region (a carried chunk starts before dataStart, at its offset in the input). */
function regionsOf(starts: readonly number[], req: Extract<IngestRequest, { type: 'cdc' }>) {
  if (!regionOf) return {}
  const kinds = new Uint8Array(starts.length)
  const phases = new Uint8Array(starts.length)
  for (const [i, start] of starts.entries()) {
    const at = regionOf(req.filePos + start - req.dataStart)
    kinds[i] = at.kind
    phases[i] = at.phase
  }
  return { kinds, phases }
}

function hashChunks(req: Extract<IngestRequest, { type: 'digests' }>): IngestReply {
  const { kinds, phases } = req
  const digests = new Uint8Array(req.starts.length * 32)
  const encodable = kinds && new Uint8Array(req.starts.length)
  for (let i = 0; i < req.starts.length; i++) {
    const start = req.starts[i] ?? 0
    const chunk = ring.subarray(start, start + (req.lengths[i] ?? 0))
    digests.set(createHash('sha256').update(chunk).digest(), i * 32)
    if (encodable && mayEncode(chunk, dataKindOf(kinds?.[i] ?? 0), phases?.[i] ?? 0))
      encodable[i] = 1
  }
  const { id, starts, lengths } = req
  if (!encodable || !kinds || !phases) return { type: 'chunks', id, starts, lengths, digests }
  return { type: 'chunks', id, starts, lengths, digests, kinds, phases, encodable }
}

function writeRange(req: Extract<IngestRequest, { type: 'write' }>): IngestReply {
  try {
    let done = req.from
    while (done < req.to)
      done += writeSync(req.fd, ring, done, req.to - done, req.position + done - req.from)
    return { type: 'write', id: req.id }
  } catch (err) {
    const { message, code } = err as NodeJS.ErrnoException
    return code === undefined
      ? { type: 'write', id: req.id, error: message }
      : { type: 'write', id: req.id, error: message, code }
  }
}

function handle(req: IngestRequest): IngestReply | undefined {
  switch (req.type) {
    case 'init':
      ring = new Uint8Array(req.ring)
      next = req.next
      next?.on('message', (forwarded: IngestRequest) => reply(handle(forwarded)))
      return undefined
    case 'cdc-start':
      cutter = createCutter(req.params)
      regionOf = req.sample ? regionCursor(req.regions ?? regionTable([])) : undefined
      tail = { start: 0, end: 0 }
      return undefined
    case 'cdc': {
      const cuts = cutBlock(req)
      if (cuts.type === 'digests') {
        const transfer = [cuts.starts.buffer, cuts.lengths.buffer]
        if (cuts.kinds && cuts.phases) transfer.push(cuts.kinds.buffer, cuts.phases.buffer)
        next?.postMessage(cuts, transfer)
      }
      return undefined
    }
    case 'digests':
      return hashChunks(req)
    case 'sha-start':
      fileHash = createHash('sha256')
      return undefined
    case 'sha':
      fileHash?.update(ring.subarray(req.from, req.to))
      return { type: 'sha', id: req.id }
    case 'write':
      return writeRange(req)
    case 'sha-end': {
      const digest = new Uint8Array(fileHash?.digest() ?? [])
      fileHash = undefined
      return { type: 'sha-end', id: req.id, digest }
    }
  }
}

function reply(message: IngestReply | undefined): void {
  if (message === undefined) return
  if (message.type === 'chunks') {
    const transfer = [message.starts.buffer, message.lengths.buffer, message.digests.buffer]
    for (const extra of [message.kinds, message.phases, message.encodable])
      if (extra) transfer.push(extra.buffer)
    parentPort?.postMessage(message, transfer)
  } else {
    parentPort?.postMessage(message)
  }
}

parentPort?.on('message', (req: IngestRequest) => reply(handle(req)))
