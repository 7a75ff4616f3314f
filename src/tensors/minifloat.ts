/**
 * Float formats narrower than f32, written by hand because Node 20 has no Float16Array and no
 * bfloat16 or float8 at all. Decoding is exact; encoding from f64 rounds once, to nearest with ties
 * to even, straight from the f64 value (going through f32 first would round twice, as ml_dtypes
 * does for bfloat16 and float8).
 */

import { at } from '../core/index.ts'

export interface MiniFloat {
  readonly dtype: 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  /** Stored mantissa (fraction) bits. */
  readonly mantissaBits: number
  readonly exponentBits: number
  readonly bias: number
  /**
   * False for F8_E4M3, which is OCP/PyTorch `float8_e4m3fn`: no infinities, only S.1111.111 is NaN,
   * and, as in PyTorch and ml_dtypes, infinities and values that round past 448 become NaN.
   */
  readonly infinities: boolean
  /** The canonical NaN written for any NaN input (positive, quiet). */
  readonly nan: number
}

export const F16: MiniFloat = {
  dtype: 'F16',
  mantissaBits: 10,
  exponentBits: 5,
  bias: 15,
  infinities: true,
  nan: 0x7e00,
}
export const BF16: MiniFloat = {
  dtype: 'BF16',
  mantissaBits: 7,
  exponentBits: 8,
  bias: 127,
  infinities: true,
  nan: 0x7fc0,
}
export const F8_E4M3: MiniFloat = {
  dtype: 'F8_E4M3',
  mantissaBits: 3,
  exponentBits: 4,
  bias: 7,
  infinities: false,
  nan: 0x7f,
}
export const F8_E5M2: MiniFloat = {
  dtype: 'F8_E5M2',
  mantissaBits: 2,
  exponentBits: 5,
  bias: 15,
  infinities: true,
  nan: 0x7e,
}

const f64 = new Float64Array(1)
const f64Words = new Uint32Array(f64.buffer)

/** 2^n, exactly, for integer n in [-1074, 1023]. */
export function pow2(n: number): number {
  if (n < -1022) return pow2(n + 52) * 2 ** -52
  f64Words[0] = 0
  f64Words[1] = (n + 1023) << 20
  return at(f64, 0, 'a reinterpreted double')
}

/** The value of one bit pattern (exact). */
export function decodeMiniFloat(format: MiniFloat, bits: number): number {
  const p = format.mantissaBits
  const expMask = (1 << format.exponentBits) - 1
  const sign = (bits >>> (p + format.exponentBits)) & 1 ? -1 : 1
  const e = (bits >>> p) & expMask
  const m = bits & ((1 << p) - 1)
  if (e === expMask) {
    if (format.infinities) return m === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN
    if (m === (1 << p) - 1) return Number.NaN
  }
  if (e === 0) return sign * m * pow2(1 - format.bias - p)
  return sign * (m + (1 << p)) * pow2(e - format.bias - p)
}

/** A table of every bit pattern's value, for decoding by lookup. */
export function decodeTable(format: MiniFloat): Float32Array {
  const size = 1 << (1 + format.exponentBits + format.mantissaBits)
  const table = new Float32Array(size)
  for (let bits = 0; bits < size; bits++) table[bits] = decodeMiniFloat(format, bits)
  return table
}

/** Everything the rounding loop needs, precomputed per format. */
interface Rounding {
  /** Mantissa bits of the f64's high word that are dropped. */
  shift: number
  /** Just under half a unit of the kept bits: adding it and the kept lowest bit rounds to even. */
  half: number
  /** Subtracted from the f64's high word to re-bias the exponent. */
  rebias: number
  /** High words (without sign) of the smallest normal and of the first too-large magnitude. */
  low: number
  high: number
  signShift: number
  /** The first magnitude bit pattern that does not hold a finite value. */
  overflow: number
  /** What overflow becomes: the infinity bits, or NaN for formats without infinities. */
  overflowBits: number
  nan: number
  /** 2^(p - emin): maps the subnormal range onto integers. */
  subnormalScale: number
}

function rounding(format: MiniFloat): Rounding {
  const p = format.mantissaBits
  const expMax = (1 << format.exponentBits) - 1
  const emin = 1 - format.bias
  const emax = format.infinities ? expMax - 1 - format.bias : expMax - format.bias
  const overflow = format.infinities ? expMax << p : (expMax << p) | ((1 << p) - 1)
  const shift = 20 - p
  return {
    shift,
    half: (1 << (shift - 1)) - 1,
    rebias: (1023 - format.bias) << 20,
    low: (1023 + emin) << 20,
    high: (1023 + emax + 1) << 20,
    signShift: p + format.exponentBits,
    overflow,
    overflowBits: format.infinities ? overflow : format.nan,
    nan: format.nan,
    subnormalScale: pow2(p - emin),
  }
}

const ROUNDINGS = new Map<MiniFloat, Rounding>()

function roundingOf(format: MiniFloat): Rounding {
  let r = ROUNDINGS.get(format)
  if (!r) {
    r = rounding(format)
    ROUNDINGS.set(format, r)
  }
  return r
}

// Adding and subtracting 2^52 rounds a non-negative f64 below 2^52 to an integer, ties to even: the
// sum has no bits left below the units place, and IEEE addition rounds to nearest even.
const MAGIC = 2 ** 52

/**
 * Encodes values[0, n) into out[0, n). `words` is an Int32Array over the same memory as `values`
 * (on a little-endian host word 2i+1 holds sign, exponent and the top 20 mantissa bits). In the
 * format's normal range the rounding is integer arithmetic on those bits: re-bias the exponent,
 * fold the low word into a sticky bit, add just under half a unit plus the lowest kept bit (ties
 * to even), shift; a carry into the exponent is correct, up to infinity. Below it, the magnitude is
 * scaled to the subnormal grid and rounded by the f64 addition itself.
 */
export function encodeMiniFloats(
  format: MiniFloat,
  values: Float64Array,
  words: Int32Array,
  n: number,
  out: Uint16Array,
): void {
  const r = roundingOf(format)
  const { shift, half, rebias, low, high, signShift, overflow, overflowBits, nan } = r
  const subnormalScale = r.subnormalScale
  // In range: i < n ≤ values.length, and words views values (2 words each). Per-element loop:
  // its reads stay unchecked.
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const hi = words[j + 1] as number
    const lo = words[j] as number
    const magnitude = hi & 0x7fffffff
    let bits: number
    if (magnitude >= low && magnitude < high) {
      // (lo !== 0 ? 1 : 0) measured faster here than the branch-free (lo | -lo) >>> 31.
      const t = (magnitude - rebias) | (lo !== 0 ? 1 : 0)
      bits = (t + half + ((t >> shift) & 1)) >> shift
      if (bits >= overflow) bits = overflowBits
    } else if (magnitude < low) {
      bits = Math.abs(values[i] as number) * subnormalScale + MAGIC - MAGIC
    } else if (magnitude > 0x7ff00000 || (magnitude === 0x7ff00000 && lo !== 0)) {
      out[i] = nan
      continue
    } else {
      bits = overflowBits
    }
    out[i] = bits | ((hi >>> 31) << signShift)
  }
}

/** Encodes one value (slow path for tests and scalars). */
export function encodeMiniFloat(format: MiniFloat, value: number): number {
  const values = new Float64Array([value])
  const out = new Uint16Array(1)
  encodeMiniFloats(format, values, new Int32Array(values.buffer), 1, out)
  return at(out, 0, 'an encoded value')
}
