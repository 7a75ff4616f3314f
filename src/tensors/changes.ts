import { aligned } from './blocks.ts'

/**
 * Element bytes viewed as unsigned integers for bitwise comparison: one word per element for sizes
 * 1, 2 and 4, two 32-bit words per element for size 8. Bitwise, so NaN payloads and -0 count.
 */
export type Words = Uint8Array | Uint16Array | Uint32Array

export function wordsOf(bytes: Uint8Array, size: number, slot: 0 | 1 | 2): Words {
  if (size === 1) return bytes
  const a = aligned(bytes, size === 2 ? 2 : 4, slot)
  return size === 2
    ? new Uint16Array(a.buffer, a.byteOffset, a.length >>> 1)
    : new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2)
}

/** First element in [from, to) whose bits differ between a and b, or `to`. */
export function firstChange(a: Words, b: Words, wide: boolean, from: number, to: number): number {
  if (wide) {
    for (let i = from; i < to; i++) {
      if (a[2 * i] !== b[2 * i] || a[2 * i + 1] !== b[2 * i + 1]) return i
    }
    return to
  }
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return i
  return to
}

/** First element in [from, to) whose bits are equal in a and b, or `to`. */
export function firstSame(a: Words, b: Words, wide: boolean, from: number, to: number): number {
  if (wide) {
    for (let i = from; i < to; i++) {
      if (a[2 * i] === b[2 * i] && a[2 * i + 1] === b[2 * i + 1]) return i
    }
    return to
  }
  for (let i = from; i < to; i++) if (a[i] === b[i]) return i
  return to
}
