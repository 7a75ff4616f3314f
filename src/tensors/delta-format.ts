/**
 * The sparse delta format, version 1: the changed elements of one tensor, exact to the bit.
 *
 *   header   "mlvd"  version=1 (1 byte)  element size in bytes (1 byte)  varint element count
 *   records  varint token  [varint run - 2]  run × element-size bytes: the new elements
 *   trailer  varint 0  varint number of changed elements
 *
 * A record covers `run` consecutive changed elements starting `gap` elements after the end of the
 * previous record (after element 0 for the first one): token = 1 + 2·gap + (run > 1 ? 1 : 0), so an
 * isolated change close to the previous one costs one byte plus its element. Runs are greedy and
 * at most MAX_RUN long (a longer stretch continues in a record with gap 0), which keeps the encoder's
 * buffer small and makes the bytes a function of the two tensors alone, not of how they were read.
 * Varints are unsigned LEB128, at most 2^53 - 1.
 */
export const DELTA_MAGIC = [0x6d, 0x6c, 0x76, 0x64] as const
export const DELTA_VERSION = 1
export const MAX_RUN = 4096
export const HEADER_FIXED = DELTA_MAGIC.length + 2

export function varintLength(value: number): number {
  let n = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}

/** Size of a header for `elements` elements. */
export function headerLength(elements: number): number {
  return HEADER_FIXED + varintLength(elements)
}

/** A growable byte buffer. */
export interface ByteWriter {
  buf: Uint8Array
  length: number
}

export function createWriter(capacity = 256): ByteWriter {
  return { buf: new Uint8Array(capacity), length: 0 }
}

export function reserve(w: ByteWriter, extra: number): void {
  if (w.length + extra <= w.buf.length) return
  const grown = new Uint8Array(Math.max(w.length + extra, 2 * w.buf.length))
  grown.set(w.buf.subarray(0, w.length))
  w.buf = grown
}

/** Appends a varint; the caller has reserved room (10 bytes is always enough). */
export function putVarint(w: ByteWriter, value: number): void {
  const buf = w.buf
  let at = w.length
  while (value >= 128) {
    buf[at++] = (value % 128) | 128
    value = Math.floor(value / 128)
  }
  buf[at++] = value
  w.length = at
}

export function putHeader(w: ByteWriter, elementSize: number, elements: number): void {
  reserve(w, HEADER_FIXED + 10)
  w.buf.set(DELTA_MAGIC, w.length)
  w.buf[w.length + 4] = DELTA_VERSION
  w.buf[w.length + 5] = elementSize
  w.length += HEADER_FIXED
  putVarint(w, elements)
}

/** Takes the bytes written so far, leaving the writer empty. */
export function drain(w: ByteWriter): Uint8Array {
  const out = w.buf.slice(0, w.length)
  w.length = 0
  return out
}
