import { endianness } from 'node:os'

/**
 * Byte planes of elements `width` bytes wide: plane k holds byte k of each of n elements, the
 * first of which starts at `start`. One pass over the elements for all planes; when the elements
 * are 4-byte aligned in memory on a little-endian machine, they are read or written as 32-bit
 * words (about 4× fewer memory operations than byte by byte).
 */
const LITTLE = endianness() === 'LE'

function words(bytes: Uint8Array, start: number, count: number): Uint32Array | undefined {
  const at = bytes.byteOffset + start
  return LITTLE && at % 4 === 0 ? new Uint32Array(bytes.buffer, at, count) : undefined
}

/** Copies byte k of each element of `data` into planes[k]. */
export function gatherPlanes(
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

/** Writes planes[k][i] as byte k of element i of `target`. */
export function scatterPlanes(
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
