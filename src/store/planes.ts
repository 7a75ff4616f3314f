import { endianness } from 'node:os'

/**
 * Byte planes of elements `width` bytes wide: plane k holds byte k of each of n elements, the
 * first of which starts at `start`. One pass over the elements for all planes. On a little-endian
 * machine elements of 2 and 4 bytes are read or written as 32-bit words (about 4× fewer memory
 * operations than byte by byte), through an aligned copy when they are not 4-byte aligned (chunks
 * are cut anywhere): a copy costs far less than the byte loop.
 */
const LITTLE = endianness() === 'LE'

let aligned = new Uint8Array(0)

/** `length` bytes of reused memory at a 4-byte aligned address. */
function alignedScratch(length: number): Uint8Array {
  if (aligned.length < length) aligned = new Uint8Array(Math.max(length, 2 * aligned.length))
  return aligned.subarray(0, length)
}

function wordsFit(bytes: Uint8Array, start: number, width: number): boolean {
  return LITTLE && (width === 2 || width === 4) && (bytes.byteOffset + start) % 4 !== 0
}

/** Copies byte k of each element of `data` into planes[k]. */
export function gatherPlanes(
  data: Uint8Array,
  start: number,
  width: number,
  n: number,
  planes: readonly Uint8Array[],
): void {
  if (!wordsFit(data, start, width)) {
    gather(data, start, width, n, planes)
    return
  }
  const copy = alignedScratch(width * n)
  copy.set(data.subarray(start, start + width * n))
  gather(copy, 0, width, n, planes)
}

/** Writes planes[k][i] as byte k of element i of `target`. */
export function scatterPlanes(
  planes: readonly Uint8Array[],
  target: Uint8Array,
  start: number,
  width: number,
  n: number,
): void {
  if (!wordsFit(target, start, width)) {
    scatter(planes, target, start, width, n)
    return
  }
  const copy = alignedScratch(width * n)
  scatter(planes, copy, 0, width, n)
  target.set(copy, start)
}

function words(bytes: Uint8Array, start: number, count: number): Uint32Array | undefined {
  const at = bytes.byteOffset + start
  return LITTLE && at % 4 === 0 ? new Uint32Array(bytes.buffer, at, count) : undefined
}

function gather(
  data: Uint8Array,
  start: number,
  width: number,
  n: number,
  planes: readonly Uint8Array[],
): void {
  const [p0, p1, p2, p3] = planes
  if (width === 4 && p0 && p1 && p2 && p3) {
    const w = words(data, start, n)
    if (w) {
      for (let i = 0; i < n; i++) {
        const v = w[i] ?? 0
        p0[i] = v
        p1[i] = v >>> 8
        p2[i] = v >>> 16
        p3[i] = v >>> 24
      }
      return
    }
  }
  if (width === 2 && p0 && p1) {
    // Two elements per word; an odd last one byte by byte.
    const pairs = n >> 1
    const w = words(data, start, pairs)
    let i = 0
    if (w) {
      for (let j = 0; j < pairs; j++, i += 2) {
        const v = w[j] ?? 0
        p0[i] = v
        p1[i] = v >>> 8
        p0[i + 1] = v >>> 16
        p1[i + 1] = v >>> 24
      }
    }
    for (let at = start + 2 * i; i < n; i++, at += 2) {
      p0[i] = data[at] ?? 0
      p1[i] = data[at + 1] ?? 0
    }
    return
  }
  for (let k = 0; k < width; k++) {
    const plane = planes[k]
    if (!plane) continue
    for (let i = 0, at = start + k; i < n; i++, at += width) plane[i] = data[at] ?? 0
  }
}

function scatter(
  planes: readonly Uint8Array[],
  target: Uint8Array,
  start: number,
  width: number,
  n: number,
): void {
  const [p0, p1, p2, p3] = planes
  if (width === 4 && p0 && p1 && p2 && p3) {
    const w = words(target, start, n)
    if (w) {
      for (let i = 0; i < n; i++)
        w[i] = (p0[i] ?? 0) | ((p1[i] ?? 0) << 8) | ((p2[i] ?? 0) << 16) | ((p3[i] ?? 0) << 24)
      return
    }
  }
  if (width === 2 && p0 && p1) {
    const pairs = n >> 1
    const w = words(target, start, pairs)
    let i = 0
    if (w) {
      for (let j = 0; j < pairs; j++, i += 2)
        w[j] =
          (p0[i] ?? 0) | ((p1[i] ?? 0) << 8) | ((p0[i + 1] ?? 0) << 16) | ((p1[i + 1] ?? 0) << 24)
    }
    for (let at = start + 2 * i; i < n; i++, at += 2) {
      target[at] = p0[i] ?? 0
      target[at + 1] = p1[i] ?? 0
    }
    return
  }
  for (let k = 0; k < width; k++) {
    const plane = planes[k]
    if (!plane) continue
    for (let i = 0, at = start + k; i < n; i++, at += width) target[at] = plane[i] ?? 0
  }
}
