import { type DType, dtypeSize } from '../formats/index.ts'
import { aligned, assertLittleEndian, CHUNK } from './blocks.ts'
import { miniFloatOf } from './codec.ts'
import { encodeMiniFloats, type MiniFloat } from './minifloat.ts'

const MAGIC = 2 ** 52
const narrow = new Uint16Array(CHUNK)
const TWO32 = 4294967296
const TWO63 = 2 ** 63
const TWO64 = 2 ** 64

/** Round to nearest integer, ties to even; for |x| < 2^52 (larger doubles are integers already). */
function rint(x: number): number {
  if (x >= 0) return x < MAGIC ? x + MAGIC - MAGIC : x
  return x > -MAGIC ? -(-x + MAGIC - MAGIC) : x
}

// The encoders below read values[0, n), n ≤ values.length; their per-element loops read unchecked.

function encodeInts(
  values: Float64Array,
  n: number,
  out: Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array,
  min: number,
  max: number,
): void {
  for (let i = 0; i < n; i++) {
    const x = values[i] as number
    out[i] = Number.isNaN(x) ? 0 : x <= min ? min : x >= max ? max : rint(x)
  }
}

function encode64(values: Float64Array, n: number, out: Uint8Array, signed: boolean): void {
  const lo = new Uint32Array(out.buffer, out.byteOffset, 2 * n)
  const hi = new Int32Array(out.buffer, out.byteOffset, 2 * n)
  for (let i = 0; i < n; i++) {
    const v = values[i] as number
    let x = Number.isNaN(v) ? 0 : rint(v)
    if (signed ? x >= TWO63 : x >= TWO64) {
      lo[2 * i] = 0xffffffff
      hi[2 * i + 1] = signed ? 0x7fffffff : -1
      continue
    }
    if (x < (signed ? -TWO63 : 0)) x = signed ? -TWO63 : 0
    const h = Math.floor(x / TWO32)
    lo[2 * i] = x - h * TWO32
    hi[2 * i + 1] = h | 0
  }
}

function encodeAligned(dtype: DType, values: Float64Array, n: number, out: Uint8Array): void {
  const b = out.buffer
  const o = out.byteOffset
  const part = values.subarray(0, n)
  switch (dtype) {
    case 'F64':
      new Float64Array(b, o, n).set(part)
      return
    case 'F32':
      new Float32Array(b, o, n).set(part)
      return
    case 'F16':
    case 'BF16':
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const words = new Int32Array(values.buffer, values.byteOffset, 2 * n)
      const format = miniFloatOf(dtype) as MiniFloat
      if (dtypeSize(dtype) === 2) {
        encodeMiniFloats(format, values, words, n, new Uint16Array(b, o, n))
        return
      }
      // One output type keeps the rounding loop monomorphic; Uint8Array.set narrows natively.
      const wide = n <= narrow.length ? narrow.subarray(0, n) : new Uint16Array(n)
      encodeMiniFloats(format, values, words, n, wide)
      out.set(wide)
      return
    }
    case 'I64':
    case 'U64':
      encode64(values, n, out, dtype === 'I64')
      return
    case 'I32':
      encodeInts(values, n, new Int32Array(b, o, n), -(2 ** 31), 2 ** 31 - 1)
      return
    case 'U32':
      encodeInts(values, n, new Uint32Array(b, o, n), 0, 2 ** 32 - 1)
      return
    case 'I16':
      encodeInts(values, n, new Int16Array(b, o, n), -32768, 32767)
      return
    case 'U16':
      encodeInts(values, n, new Uint16Array(b, o, n), 0, 65535)
      return
    case 'I8':
      encodeInts(values, n, new Int8Array(b, o, n), -128, 127)
      return
    case 'U8':
      encodeInts(values, n, out, 0, 255)
      return
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = (values[i] as number) !== 0 ? 1 : 0
      return
  }
}

/**
 * Encodes values[0, n) as `dtype` element bytes into out[0, n * size). Floats round to nearest,
 * ties to even (NaN becomes the dtype's canonical NaN; overflow becomes ±Inf, or NaN for F8_E4M3,
 * which has no infinities). Integers round to nearest even and saturate at the dtype's range, NaN
 * becomes 0; BOOL is 1 for anything non-zero, NaN included (as in NumPy).
 */
export function encodeInto(dtype: DType, values: Float64Array, n: number, out: Uint8Array): void {
  assertLittleEndian()
  const size = dtypeSize(dtype)
  const target = out.subarray(0, n * size)
  const a = aligned(target, size, 1)
  encodeAligned(dtype, values, n, a)
  if (a !== target) target.set(a)
}

/** Encodes all values; see encodeInto. */
export function encode(dtype: DType, values: ArrayLike<number>): Uint8Array {
  const f64 = values instanceof Float64Array ? values : Float64Array.from(values)
  const out = new Uint8Array(f64.length * dtypeSize(dtype))
  encodeInto(dtype, f64, f64.length, out)
  return out
}
