/**
 * Reads, decodes, checks and encodes objects off the main thread (see verify-pool).
 *
 * - `read`: object i is read from pack file descriptor fds[i] at offsets[i] (lengths[i] stored
 *   bytes, codec codecs[i]) and decoded into `data` (shared memory) right after object i - 1, as
 *   sizes[i] bytes; with `digests`, each is compared with its 32-byte sha-256 digests[32i, 32i+32).
 *   Reply: the index of the first object that is damaged (or could not be read whole), or -1.
 * - `check`: the same objects, from pack files or from `source` (bytes fetched from a remote, at
 *   offsets[i]), are decoded and compared with their digests, and not kept. Same reply.
 * - `encode`: chunk i, at offsets[i] (sizes[i] bytes), is encoded for its data kind (kinds[i],
 *   phases[i]; see encoding.ts). From the file descriptor `fd`, it is read and checked against its
 *   digest first (the file may have changed since it was cut); from `source` (the ingest ring, in
 *   shared memory) it is taken as it is. Reply: each chunk's codec and stored bytes (moved, not
 *   copied, to the caller) — empty for a raw chunk of `source`, which stays there; or the first
 *   chunk that changed.
 */
import { parentPort } from 'node:worker_threads'
import { isMlvcError, matchesDigest, readFullSync } from '../core/index.ts'
import { checkEncodedSize, dataKindOf, decodeInto, encodeObject, RAW } from './encoding.ts'

/** Objects stored in packs (or in `source`), as read and check requests list them. */
interface Objects {
  id: number
  fds: Int32Array
  offsets: Float64Array
  lengths: Int32Array
  codecs: Uint8Array
  sizes: Int32Array
}

export type WorkRequest =
  | (Objects & { type: 'read'; data: Uint8Array; digests?: Uint8Array | undefined })
  | (Objects & { type: 'check'; digests: Uint8Array; source?: Uint8Array | undefined })
  | {
      type: 'encode'
      id: number
      fd?: number | undefined
      source?: Uint8Array | undefined
      offsets: Float64Array
      sizes: Int32Array
      digests?: Uint8Array | undefined
      kinds: Uint8Array
      phases: Uint8Array
      /** false: check and copy only, store every chunk raw (Store.compress). */
      compress: boolean
    }

/** The reply to `read` and `check`. */
export interface CheckReply {
  type: 'read' | 'check'
  id: number
  bad: number
  /** The bad object could not be read whole: its pack is shorter than the index says. */
  truncated: boolean
  /** Why the bad object is damaged, when its stored bytes do not decode. */
  why?: string
  /** A read failed: the error's message. */
  error?: string
}

export interface EncodeReply {
  type: 'encode'
  id: number
  /** The first chunk whose bytes differ from its digest (or were cut short), or -1. */
  changed: number
  codecs: Uint8Array<ArrayBuffer>
  /** Each chunk's stored bytes, each in memory of its own (transferred with the reply). */
  stored: Uint8Array<ArrayBuffer>[]
  error?: string
}

export type WorkReply = CheckReply | EncodeReply

/** Worker memory reused between requests: stored bytes read, and objects decoded to be checked. */
let stored = Buffer.alloc(0)
let decoded = Buffer.alloc(0)

function scratch(which: 'stored' | 'decoded', length: number): Buffer {
  const current = which === 'stored' ? stored : decoded
  if (current.length >= length) return current.subarray(0, length)
  const grown = Buffer.allocUnsafe(Math.max(length, 2 * current.length))
  if (which === 'stored') stored = grown
  else decoded = grown
  return grown.subarray(0, length)
}

/** Reads `into.length` bytes at `offset`; false when the file ends first. */
function readExactly(fd: number, into: Uint8Array, offset: number): boolean {
  return readFullSync(fd, into, offset) === into.length
}

function digestMatches(data: Uint8Array, digests: Uint8Array, i: number): boolean {
  return matchesDigest(data, digests.subarray(i * 32, i * 32 + 32))
}

type Failure = Pick<CheckReply, 'truncated' | 'why'>

/**
 * Object i decoded into `target` (or, without one, into scratch memory); returns it, or why it is
 * damaged.
 */
function decodeOne(
  req: Objects & { source?: Uint8Array | undefined },
  i: number,
  target: Uint8Array | undefined,
): Uint8Array | Failure {
  const length = req.lengths[i] ?? 0
  const size = req.sizes[i] ?? 0
  const codec = req.codecs[i] ?? RAW
  const offset = req.offsets[i] ?? 0
  try {
    checkEncodedSize(codec, length, size)
  } catch (err) {
    if (!isMlvcError(err, 'CORRUPT')) throw err
    return { truncated: false, why: err.message }
  }
  let bytes: Uint8Array
  if (req.source) {
    bytes = req.source.subarray(offset, offset + length)
    if (bytes.length < length) return { truncated: true }
  } else {
    bytes = codec === RAW && target ? target : scratch('stored', length)
    if (!readExactly(req.fds[i] ?? -1, bytes, offset)) return { truncated: true }
  }
  if (codec === RAW) {
    if (target && target !== bytes) target.set(bytes)
    return target ?? bytes
  }
  const into = target ?? scratch('decoded', size)
  try {
    decodeInto(bytes, codec, into)
  } catch (err) {
    if (!isMlvcError(err, 'CORRUPT')) throw err
    return { truncated: false, why: err.message }
  }
  return into
}

function readOrCheck(req: Extract<WorkRequest, { type: 'read' | 'check' }>): CheckReply {
  let at = 0
  for (let i = 0; i < req.lengths.length; i++) {
    const size = req.sizes[i] ?? 0
    const target = req.type === 'read' ? req.data.subarray(at, at + size) : undefined
    const result = decodeOne(req, i, target)
    if (!(result instanceof Uint8Array)) return { type: req.type, id: req.id, bad: i, ...result }
    if (req.digests && !digestMatches(result, req.digests, i))
      return { type: req.type, id: req.id, bad: i, truncated: false }
    at += size
  }
  return { type: req.type, id: req.id, bad: -1, truncated: false }
}

function encode(req: Extract<WorkRequest, { type: 'encode' }>): EncodeReply {
  const count = req.sizes.length
  const codecs = new Uint8Array(count)
  const stored: Uint8Array<ArrayBuffer>[] = []
  const reply = (changed: number): EncodeReply => {
    return { type: 'encode', id: req.id, changed, codecs, stored }
  }
  for (let i = 0; i < count; i++) {
    const offset = req.offsets[i] ?? 0
    const size = req.sizes[i] ?? 0
    let raw: Uint8Array
    if (req.source) raw = req.source.subarray(offset, offset + size)
    else {
      raw = new Uint8Array(size)
      if (!readExactly(req.fd ?? -1, raw, offset)) return reply(i)
    }
    if (req.digests && !digestMatches(raw, req.digests, i)) return reply(i)
    const encoded = req.compress
      ? encodeObject(raw, dataKindOf(req.kinds[i] ?? 0), req.phases[i] ?? 0)
      : undefined
    codecs[i] = encoded?.codec ?? RAW
    if (encoded) stored.push(ownMemory(encoded.bytes))
    else stored.push(req.source ? new Uint8Array(0) : ownMemory(raw))
  }
  return reply(-1)
}

/**
 * Bytes in memory of their own (a view on a larger buffer is copied out), so that they can be
 * transferred, and no two share a buffer.
 */
function ownMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes
  if (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  )
    return new Uint8Array(buffer)
  return new Uint8Array(bytes)
}

function handle(req: WorkRequest): WorkReply {
  switch (req.type) {
    case 'read':
    case 'check':
      return readOrCheck(req)
    case 'encode':
      return encode(req)
  }
}

function failure(req: WorkRequest, error: string): WorkReply {
  if (req.type !== 'encode') return { type: req.type, id: req.id, bad: -1, truncated: false, error }
  return { type: 'encode', id: req.id, changed: -1, codecs: new Uint8Array(0), stored: [], error }
}

parentPort?.on('message', (req: WorkRequest) => {
  let reply: WorkReply
  try {
    reply = handle(req)
  } catch (err) {
    reply = failure(req, err instanceof Error ? err.message : String(err))
  }
  if (reply.type === 'encode')
    parentPort?.postMessage(
      reply,
      reply.stored.map((b) => b.buffer),
    )
  else parentPort?.postMessage(reply)
})
