import { constants, deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib'
import { MlvcError } from '../core/index.ts'
import { sampledEntropy } from './entropy.ts'
import { gatherPlanes, scatterPlanes } from './planes.ts'

/**
 * How an object's bytes are stored in a pack: one byte in its record and its index entry. The
 * object's id is always the hash of its raw bytes; an encoding only changes what the pack holds.
 *
 * - RAW (0): the bytes as they are.
 * - DEFLATE (1): raw deflate (RFC 1951) of the bytes: the general codec.
 * - BYTEGROUP (2): floats split into byte planes (byte k of every element together), each plane
 *   stored or deflated; see encodeBytegroup for the layout.
 */
export const RAW = 0
export const DEFLATE = 1
export const BYTEGROUP = 2

/** What an object's bytes are, as far as the writer knows: it picks the encoding to try. */
export type DataKind = 'bytes' | 'float16' | 'float32' | 'float64'

/** Where a kind of data starts in an input: it runs to the next region's start. */
export interface DataRegion {
  start: number
  kind: DataKind
}

export interface Encoded {
  codec: number
  bytes: Uint8Array
}

/** How a record's stored bytes encode its object: the codec, and the object's raw length. */
export interface Encoding {
  codec: number
  size: number
}

/** Objects smaller than this are stored raw: a codec call costs more than it could save. */
export const MIN_ENCODED_SIZE = 4096
/**
 * Data sampled at more bits per byte than this is not tried: no Huffman code saves the 1/16 an
 * encoding must save to be kept (see worthIt).
 */
const MAX_ENTROPY = 7.5
/**
 * Deflate can expand at most about 1032 times (258 bytes per 2-bit code); a record claiming more is
 * damaged, and is refused before anything is allocated for it.
 */
const MAX_RATIO = 1032

const GENERAL: ZlibOptions = { level: 1 }
/** Exponent planes: Huffman codes alone (about 50% faster than RLE matching, as small). */
const PLANE: ZlibOptions = { strategy: constants.Z_HUFFMAN_ONLY, memLevel: 9 }
/**
 * Planes of nearly one value (zeros, constant tensors): Huffman codes over runs, since Huffman
 * codes alone take at least one bit per byte.
 */
const RUNS: ZlibOptions = { strategy: constants.Z_RLE, level: 1, memLevel: 9 }
const RUNS_BELOW = 1

/**
 * zlib's output buffer for `length` bytes: all of them in one (no pieces to join), within the
 * bounds zlib accepts.
 */
function outputRoom(length: number): number {
  return Math.min(Math.max(length + 64, constants.Z_MIN_CHUNK), 4 * 1024 * 1024)
}

/** An encoding is kept only when it saves 1/16 of the bytes: less is not worth decoding. */
function worthIt(stored: number, size: number): boolean {
  return stored <= size - size / 16
}

const WIDTH: Record<DataKind, number> = { bytes: 1, float16: 2, float32: 4, float64: 8 }

/** Data kinds by a one-byte code, for messages to worker threads. */
export const DATA_KINDS: readonly DataKind[] = ['bytes', 'float16', 'float32', 'float64']

export function dataKindOf(code: number): DataKind {
  return DATA_KINDS[code] ?? 'bytes'
}

/** Bytes per element of a kind (1 for plain bytes). */
export function elementWidth(kind: DataKind): number {
  return WIDTH[kind]
}

/**
 * The smallest encoding of `data` worth keeping, or undefined to store it raw. `phase` is how many
 * bytes precede the first whole element (the data may start inside one, as a chunk cut inside a
 * tensor does). Random bytes cost a sample of 1 KiB per plane to reject.
 */
export function encodeObject(data: Uint8Array, kind: DataKind, phase = 0): Encoded | undefined {
  if (data.length < MIN_ENCODED_SIZE) return undefined
  if (kind === 'bytes') return encodeGeneral(data)
  const bytes = encodeBytegroup(data, WIDTH[kind], phase % WIDTH[kind])
  return bytes ? { codec: BYTEGROUP, bytes } : undefined
}

/**
 * False when encodeObject would surely store `data` raw (small, or random by its samples): a few
 * microseconds, so a caller can keep random data away from the workers that encode.
 */
export function mayEncode(data: Uint8Array, kind: DataKind, phase = 0): boolean {
  if (data.length < MIN_ENCODED_SIZE) return false
  const width = WIDTH[kind]
  const start = phase % width
  const n = Math.floor((data.length - start) / width)
  for (let k = 0; k < width; k++)
    if (sampledEntropy(data, start + k, width, n) <= MAX_ENTROPY) return true
  return false
}

function encodeGeneral(data: Uint8Array): Encoded | undefined {
  if (sampledEntropy(data, 0, 1, data.length) > MAX_ENTROPY) return undefined
  const bytes = deflateRawSync(data, { ...GENERAL, chunkSize: outputRoom(data.length) })
  return worthIt(bytes.length, data.length) ? { codec: DEFLATE, bytes } : undefined
}

/** Memory the planes of one object are gathered into, reused (objects are at most a few MiB). */
let scratch = Buffer.alloc(0)

function planeViews(width: number, n: number): Buffer[] {
  if (scratch.length < width * n) scratch = Buffer.allocUnsafe(Math.max(width * n, 1 << 20))
  return Array.from({ length: width }, (_, k) => scratch.subarray(k * n, (k + 1) * n))
}

/** A plane deflated, or undefined when deflating it would not save enough. */
function deflatePlane(plane: Uint8Array, entropy: number): Buffer | undefined {
  const options = entropy < RUNS_BELOW ? RUNS : PLANE
  const deflated = deflateRawSync(plane, { ...options, chunkSize: outputRoom(plane.length) })
  return worthIt(deflated.length, plane.length) ? deflated : undefined
}

/**
 * BYTEGROUP layout: u8 width | u8 phase | width × u8 method (0 stored, 1 deflate) | width × u32 LE
 * stored length of each plane | the `phase` leading bytes | the tail bytes (after the last whole
 * element) | plane 0 … plane width-1. Plane k holds byte k of each whole element.
 */
function encodeBytegroup(data: Uint8Array, width: number, phase: number): Uint8Array | undefined {
  const n = Math.floor((data.length - phase) / width)
  const tail = data.length - phase - n * width
  // Random planes (mantissas) are seen from a sample and stored; nothing is gathered for random data.
  const entropy = Array.from({ length: width }, (_, k) => sampledEntropy(data, phase + k, width, n))
  if (entropy.every((e) => e > MAX_ENTROPY)) return undefined
  const planes = planeViews(width, n)
  gatherPlanes(data, phase, width, n, planes)
  const packed = planes.map((plane, k) => {
    const e = entropy[k] ?? 8
    return e <= MAX_ENTROPY ? deflatePlane(plane, e) : undefined
  })
  if (packed.every((p) => p === undefined)) return undefined
  const head = 2 + 5 * width
  let total = head + phase + tail
  for (const plane of packed) total += plane?.length ?? n
  if (!worthIt(total, data.length)) return undefined
  const out = Buffer.allocUnsafe(total)
  out[0] = width
  out[1] = phase
  out.set(data.subarray(0, phase), head)
  out.set(data.subarray(data.length - tail), head + phase)
  let at = head + phase + tail
  for (const [k, plane] of planes.entries()) {
    const stored = packed[k] ?? plane
    out[2 + k] = packed[k] ? 1 : 0
    out.writeUInt32LE(stored.length, 2 + width + 4 * k)
    out.set(stored, at)
    at += stored.length
  }
  return out
}

function damaged(why: string): MlvcError {
  return new MlvcError('CORRUPT', why)
}

/**
 * Checks a record's stated sizes before anything is allocated for it: a raw record's size is its
 * length; an encoded one is not empty and expands at most as far as deflate can.
 */
export function checkEncodedSize(codec: number, stored: number, size: number): void {
  if (codec > BYTEGROUP) throw damaged(`its record names an unknown encoding (${codec})`)
  if (codec === RAW) {
    if (stored !== size)
      throw damaged(`its record holds ${stored} bytes but states a size of ${size}`)
    return
  }
  if (size === 0 || size > stored * MAX_RATIO + 1024)
    throw damaged(`its stated size of ${size} bytes cannot come from ${stored} encoded bytes`)
}

/** Inflates exactly `size` bytes, or says how the stream is damaged; never more than `size`. */
function inflateExactly(stored: Uint8Array, size: number, what: string): Buffer {
  let out: Buffer
  try {
    out = inflateRawSync(stored, { maxOutputLength: size, chunkSize: outputRoom(size) })
  } catch (err) {
    if (err instanceof RangeError && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE')
      throw damaged(`${what} expands past its stated size of ${size} bytes`)
    const why = err instanceof Error ? err.message : String(err)
    throw damaged(`${what} is not a valid deflate stream (${why})`)
  }
  if (out.length !== size)
    throw damaged(`${what} ends early: ${out.length} of its stated ${size} bytes`)
  return out
}

function decodeBytegroup(stored: Uint8Array, target: Uint8Array): void {
  const size = target.length
  const width = stored[0] ?? 0
  const phase = stored[1] ?? 0
  const head = 2 + 5 * width
  if (![2, 4, 8].includes(width) || phase >= width || stored.length < head || phase > size)
    throw damaged('its byte-group header is malformed')
  const n = Math.floor((size - phase) / width)
  const tail = size - phase - n * width
  const view = Buffer.from(stored.buffer, stored.byteOffset, stored.length)
  let at = head + phase + tail
  const planes: Array<{ method: number; from: number; length: number }> = []
  for (let k = 0; k < width; k++) {
    const method = view[2 + k] ?? 0
    const length = view.readUInt32LE(2 + width + 4 * k)
    if (method > 1 || (method === 0 && length !== n))
      throw damaged(`its byte plane ${k} is malformed`)
    planes.push({ method, from: at, length })
    at += length
  }
  if (at !== stored.length)
    throw damaged(`its byte planes take ${at} bytes but the record holds ${stored.length}`)
  target.set(view.subarray(head, head + phase), 0)
  target.set(view.subarray(head + phase, head + phase + tail), size - tail)
  const decoded = planes.map(({ method, from, length }, k) => {
    const bytes = view.subarray(from, from + length)
    return method === 0 ? bytes : inflateExactly(bytes, n, `its byte plane ${k}`)
  })
  scatterPlanes(decoded, target, phase, width, n)
}

/**
 * Decodes a stored record into `target`, whose length is the object's size. Damage — a stream
 * that expands too far or ends early, a wrong size, an unknown codec — is a CORRUPT MlvcError
 * saying what is wrong (callers name the object and the pack); it never allocates more than the
 * stated size.
 */
export function decodeInto(stored: Uint8Array, codec: number, target: Uint8Array): void {
  checkEncodedSize(codec, stored.length, target.length)
  switch (codec) {
    case RAW:
      target.set(stored)
      return
    case DEFLATE:
      target.set(inflateExactly(stored, target.length, 'its deflate stream'))
      return
    case BYTEGROUP:
      decodeBytegroup(stored, target)
      return
    default:
      throw damaged(`its record names an unknown encoding (${codec})`)
  }
}

/** The raw bytes of a stored record (see decodeInto); a raw record is returned as it is. */
export function decodeObject(stored: Uint8Array, codec: number, size: number): Buffer {
  checkEncodedSize(codec, stored.length, size)
  if (codec === RAW) return Buffer.from(stored.buffer, stored.byteOffset, stored.length)
  const out = Buffer.allocUnsafe(size)
  decodeInto(stored, codec, out)
  return out
}
