import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { aligned, assertLittleEndian, CHUNK } from './blocks.ts'
import { BF16, decodeTable, F8_E4M3, F8_E5M2, F16, type MiniFloat } from './minifloat.ts'

const tables = new Map<MiniFloat, Float32Array>()

function tableOf(format: MiniFloat): Float32Array {
  let table = tables.get(format)
  if (!table) {
    table = decodeTable(format)
    tables.set(format, table)
  }
  return table
}

export function miniFloatOf(dtype: DType): MiniFloat | undefined {
  switch (dtype) {
    case 'F16':
      return F16
    case 'BF16':
      return BF16
    case 'F8_E4M3':
      return F8_E4M3
    case 'F8_E5M2':
      return F8_E5M2
    default:
      return undefined
  }
}

export function elementCount(dtype: DType, bytes: Uint8Array): number {
  const size = dtypeSize(dtype)
  if (bytes.length % size !== 0) {
    throw new MlvcError(
      'USAGE',
      `${bytes.length} bytes is not a whole number of ${dtype} elements (${size} bytes each)`,
    )
  }
  return bytes.length / size
}

// The decoders below read inside their arrays (every index is below a length they were sized by);
// their per-element loops read unchecked.

function lookup(
  table: Float32Array,
  bits: Uint8Array | Uint16Array,
  out: Float64Array,
  at: number,
) {
  for (let i = 0; i < bits.length; i++) out[at + i] = table[bits[i] as number] as number
}

const bf16Wide = new Uint32Array(CHUNK)
const bf16Float = new Float32Array(bf16Wide.buffer)

function decodeBF16(bits: Uint16Array, out: Float64Array, at: number): void {
  for (let start = 0; start < bits.length; start += CHUNK) {
    const n = Math.min(CHUNK, bits.length - start)
    for (let i = 0; i < n; i++) bf16Wide[i] = (bits[start + i] as number) << 16
    out.set(n === CHUNK ? bf16Float : bf16Float.subarray(0, n), at + start)
  }
}

const TWO32 = 4294967296

function decodeI64(words: Uint32Array, signed: boolean, out: Float64Array, at: number): void {
  const n = words.length >>> 1
  if (signed) {
    const high = new Int32Array(words.buffer, words.byteOffset, words.length)
    // hi * 2^32 is exact and lo is exact, so the one rounding of the sum is the correctly rounded
    // value: precision is lost only beyond 2^53 in magnitude.
    for (let i = 0; i < n; i++) {
      out[at + i] = (high[2 * i + 1] as number) * TWO32 + (words[2 * i] as number)
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[at + i] = (words[2 * i + 1] as number) * TWO32 + (words[2 * i] as number)
    }
  }
}

export function view<T>(
  make: new (buffer: ArrayBufferLike, offset: number, length: number) => T,
  bytes: Uint8Array,
  size: number,
): T {
  const a = aligned(bytes, size)
  return new make(a.buffer, a.byteOffset, a.length / size)
}

/**
 * Decodes the elements in `bytes` into out[at, at + n) as f64 values; returns n. Exact for every
 * dtype except I64/U64 beyond 2^53 in magnitude, which round to the nearest f64 (use
 * decodeBigInts for exact 64-bit integers). BOOL decodes any non-zero byte as 1.
 */
export function decodeInto(dtype: DType, bytes: Uint8Array, out: Float64Array, at = 0): number {
  assertLittleEndian()
  const n = elementCount(dtype, bytes)
  switch (dtype) {
    case 'F64':
      out.set(view(Float64Array, bytes, 8), at)
      break
    case 'F32':
      out.set(view(Float32Array, bytes, 4), at)
      break
    case 'F16':
      lookup(tableOf(F16), view(Uint16Array, bytes, 2), out, at)
      break
    case 'BF16':
      decodeBF16(view(Uint16Array, bytes, 2), out, at)
      break
    case 'F8_E4M3':
    case 'F8_E5M2':
      lookup(tableOf(miniFloatOf(dtype) as MiniFloat), bytes, out, at)
      break
    case 'I64':
    case 'U64':
      decodeI64(view(Uint32Array, bytes, 4), dtype === 'I64', out, at)
      break
    case 'I32':
      out.set(view(Int32Array, bytes, 4), at)
      break
    case 'U32':
      out.set(view(Uint32Array, bytes, 4), at)
      break
    case 'I16':
      out.set(view(Int16Array, bytes, 2), at)
      break
    case 'U16':
      out.set(view(Uint16Array, bytes, 2), at)
      break
    case 'I8':
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset, n), at)
      break
    case 'U8':
      out.set(bytes, at)
      break
    case 'BOOL':
      for (let i = 0; i < n; i++) out[at + i] = bytes[i] === 0 ? 0 : 1
      break
  }
  return n
}

/** All elements as f64 values; see decodeInto. */
export function decode(dtype: DType, bytes: Uint8Array): Float64Array {
  const out = new Float64Array(elementCount(dtype, bytes))
  decodeInto(dtype, bytes, out)
  return out
}

/** Whether every value of the dtype is exactly an f32. */
export function fitsFloat32(dtype: DType): boolean {
  switch (dtype) {
    case 'F64':
    case 'I64':
    case 'U64':
    case 'I32':
    case 'U32':
      return false
    default:
      return true
  }
}

/** All elements as f32 values, for dtypes where that is exact (see fitsFloat32). */
export function decodeFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  if (!fitsFloat32(dtype)) {
    throw new MlvcError('USAGE', `${dtype} values do not all fit in f32; decode them to f64`)
  }
  if (dtype === 'F32') return view(Float32Array, bytes, 4).slice()
  if (dtype === 'BF16') {
    const bits = view(Uint16Array, bytes, 2)
    const wide = new Uint32Array(bits.length)
    for (let i = 0; i < bits.length; i++) wide[i] = (bits[i] as number) << 16
    return new Float32Array(wide.buffer)
  }
  return new Float32Array(decode(dtype, bytes))
}

/** I64 or U64 elements as exact 64-bit integers. */
export function decodeBigInts(
  dtype: 'I64' | 'U64',
  bytes: Uint8Array,
): BigInt64Array | BigUint64Array {
  assertLittleEndian()
  elementCount(dtype, bytes)
  const a = aligned(bytes, 8).slice()
  return dtype === 'I64'
    ? new BigInt64Array(a.buffer, 0, a.length / 8)
    : new BigUint64Array(a.buffer, 0, a.length / 8)
}
