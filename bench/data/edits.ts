import { createHash } from 'node:crypto'
import { BLOCK, keystream } from './keystream.ts'

/**
 * Changes a tensor's F32 values in place as the generator streams them: called on consecutive
 * blocks in file order (`words` holds the next `count` elements), so it keeps its own position.
 */
export type Editor = (words: Uint32Array, count: number) => void

/** Mantissa bits: xor-ing inside them keeps the sign and exponent, so values stay weight-like. */
const MANTISSA = 0x007fffff
/** The low 16 mantissa bits: a relative change under 2^-7, as a fine-tune's small step. */
const LOW_BITS = 0x0000ffff

/**
 * mulberry32: a small deterministic 32-bit generator. The edits need reproducible positions and
 * bit patterns on every machine, not cryptographic quality.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** A 32-bit seed from text. */
export function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0)
}

/** How many of `elements` a sparse edit changes: the fraction, rounded, at least one. */
export function sparseCount(elements: number, fraction: number): number {
  return elements <= 0 ? 0 : Math.max(1, Math.min(elements, Math.round(elements * fraction)))
}

/**
 * Changes `sparseCount(elements, fraction)` elements spread across the whole tensor: it is cut
 * into that many equal windows and one element at a pseudo-random place in each is changed. A
 * changed element gets a new random mantissa (never the old one: the xor has its low bit set), so
 * most of its bytes differ, as they do when an optimizer moves a weight.
 */
export function sparseEditor(elements: number, fraction: number, seed: string): Editor {
  const k = sparseCount(elements, fraction)
  const random = mulberry32(seedOf(seed))
  let window = 0
  const nextPosition = (): number => {
    if (window >= k) return Number.POSITIVE_INFINITY
    const lo = Math.floor((window * elements) / k)
    const hi = Math.floor(((window + 1) * elements) / k)
    window++
    return lo + (random() % (hi - lo))
  }
  let position = nextPosition()
  let base = 0
  return (words, count) => {
    const end = base + count
    while (position < end) {
      const i = position - base
      words[i] = ((words[i] as number) ^ ((random() & MANTISSA) | 1)) >>> 0
      position = nextPosition()
    }
    base = end
  }
}

/**
 * Changes every element a little (a full fine-tune): its low 16 mantissa bits are xor-ed with
 * keystream bits (low bit set, so each one changes), a relative change under 2^-7.
 */
export function denseEditor(seed: string): Editor {
  const next = keystream(seed)
  const bits = new Uint32Array(BLOCK / 4)
  const view = new Uint8Array(bits.buffer)
  return (words, count) => {
    view.set(next(4 * count))
    for (let i = 0; i < count; i++) {
      words[i] = ((words[i] as number) ^ (((bits[i] as number) & LOW_BITS) | 1)) >>> 0
    }
  }
}
