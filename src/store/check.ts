import type { Encoding } from './encoding.ts'
import { MAX_WORKERS, readInPool } from './verify-pool.ts'

/** An object's stored bytes, where they are, and what they must decode to. */
export interface StoredObject extends Encoding {
  digest: Uint8Array
  /** Where its stored bytes start: in `source`, or in the pack file `fd`. */
  offset: number
  /** How many bytes are stored. */
  length: number
  /** The pack file descriptor to read them from (not needed with a `source`). */
  fd?: number
}

/** Runs of at least this many stored bytes are shared among the workers. */
const SPLIT = 2 * 1024 * 1024
/** Stored bytes sent in one message at most. */
const MAX_REQUEST = 32 * 1024 * 1024

/** Objects [first, last) checked by one worker, from the first damaged one on again. */
async function checkPart(
  objects: readonly StoredObject[],
  first: number,
  last: number,
  source: Uint8Array | undefined,
  damaged: Map<number, string>,
): Promise<void> {
  for (let from = first; from < last; ) {
    const part = objects.slice(from, last)
    // From memory: only this part's bytes go to the worker (a view would send its whole buffer).
    const base = source ? (part[0]?.offset ?? 0) : 0
    let end = base
    for (const o of part) end = Math.max(end, o.offset + o.length)
    // Shared memory is sent as a view (the worker reads it in place: no copy, and the caller
    // waits for the answer before it reuses the buffer); any other buffer is copied, and the copy
    // moves to the worker (Buffer's slice is a view of a pool or of the whole buffer).
    const shared = source?.buffer instanceof SharedArrayBuffer
    const bytes = source
      ? shared
        ? source.subarray(base, end)
        : new Uint8Array(source.subarray(base, end))
      : undefined
    const request = {
      type: 'check',
      fds: Int32Array.from(part, (o) => o.fd ?? -1),
      offsets: Float64Array.from(part, (o) => o.offset - base),
      lengths: Int32Array.from(part, (o) => o.length),
      codecs: Uint8Array.from(part, (o) => o.codec),
      sizes: Int32Array.from(part, (o) => o.size),
      digests: concatDigests(part),
      source: bytes,
    } as const
    const reply = await readInPool(request, bytes && !shared ? [bytes.buffer as ArrayBuffer] : [])
    if (reply.error !== undefined) throw new Error(reply.error)
    if (reply.bad < 0) return
    const why = reply.truncated
      ? 'its bytes end early'
      : (reply.why ?? 'its bytes do not match its id')
    damaged.set(from + reply.bad, why)
    from += reply.bad + 1
  }
}

function concatDigests(objects: readonly StoredObject[]): Uint8Array {
  const out = new Uint8Array(32 * objects.length)
  for (const [i, o] of objects.entries()) out.set(o.digest, 32 * i)
  return out
}

/**
 * Checks stored objects on worker threads: each must decode (as its codec says) to the bytes its
 * digest names. The objects are in pack files (`fd` of each) or in `source` (bytes fetched from
 * a remote, offsets into it; objects in offset order). Returns the damaged ones by index, with
 * why; nothing is decoded on the calling thread.
 */
export async function findDamaged(
  objects: readonly StoredObject[],
  source?: Uint8Array,
): Promise<Map<number, string>> {
  const damaged = new Map<number, string>()
  let total = 0
  for (const o of objects) total += o.length
  const parts = Math.max(total >= SPLIT ? MAX_WORKERS : 1, Math.ceil(total / MAX_REQUEST))
  const running: Array<Promise<void>> = []
  let first = 0
  let bytes = 0
  for (let part = 1; part <= parts && first < objects.length; part++) {
    const goal = (total * part) / parts
    let last = first
    while (last < objects.length && (bytes < goal || last === first))
      bytes += objects[last++]?.length ?? 0
    const checked = checkPart(objects, first, last, source, damaged)
    // Awaited below; a failure of one must not count as unhandled while another is awaited.
    checked.catch(() => undefined)
    running.push(checked)
    first = last
  }
  for (const checked of running) await checked
  return damaged
}
