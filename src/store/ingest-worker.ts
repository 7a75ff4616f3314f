/**
 * Worker side of the ingest pipeline (see ingest.ts). One worker cuts chunks and passes the cuts
 * straight to a second that hashes the chunks and replies; a third hashes the whole file. All read
 * the shared ring that the main thread fills; none copies it.
 */
import { createHash, type Hash } from 'node:crypto'
import { writeSync } from 'node:fs'
import { type MessagePort, parentPort } from 'node:worker_threads'
import { type CdcParams, type Cutter, createCutter } from './fastcdc.ts'

export type IngestRequest =
  /** `next`: where a cutter sends its cuts to be hashed (a port to the digest worker). */
  | { type: 'init'; ring: SharedArrayBuffer; next?: MessagePort }
  | { type: 'cdc-start'; params: CdcParams }
  /**
   * Cut ring[dataStart, end), new file data, continuing the chunk left open by the previous block:
   * its bytes are first copied from the previous block's tail to just before dataStart.
   */
  | {
      type: 'cdc'
      id: number
      dataStart: number
      end: number
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
    }
  | { type: 'sha'; id: number }
  | { type: 'write'; id: number; error?: string; code?: string }
  | { type: 'sha-end'; id: number; digest: Uint8Array<ArrayBuffer> }

let ring: Uint8Array = new Uint8Array(0)
let next: MessagePort | undefined
let cutter: Cutter | undefined
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
    const limit = next < forced.length ? Math.min(forced[next] as number, req.end) : req.end
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
  }
}

function hashChunks(req: Extract<IngestRequest, { type: 'digests' }>): IngestReply {
  const digests = new Uint8Array(req.starts.length * 32)
  for (let i = 0; i < req.starts.length; i++) {
    const start = req.starts[i] as number
    const chunk = ring.subarray(start, start + (req.lengths[i] as number))
    digests.set(createHash('sha256').update(chunk).digest(), i * 32)
  }
  return { type: 'chunks', id: req.id, starts: req.starts, lengths: req.lengths, digests }
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
      tail = { start: 0, end: 0 }
      return undefined
    case 'cdc': {
      const cuts = cutBlock(req)
      if (cuts.type === 'digests')
        next?.postMessage(cuts, [cuts.starts.buffer, cuts.lengths.buffer])
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
    parentPort?.postMessage(message, transfer)
  } else {
    parentPort?.postMessage(message)
  }
}

parentPort?.on('message', (req: IngestRequest) => reply(handle(req)))
