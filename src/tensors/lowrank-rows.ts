import { aligned } from './blocks.ts'
import { decodeInto } from './codec.ts'
import { createWriter, putVarint, reserve } from './delta-format.ts'
import { badDelta } from './delta-parse.ts'
import { encodeInto } from './encode.ts'
import {
  type LowRankDType,
  type LowRankFactors,
  readVarint,
  type VarintCursor,
} from './lowrank-format.ts'

/** Per-row working memory of the reconstruction. */
export interface RowScratch {
  old: Float64Array
  x: Float64Array
}

export function rowScratch(cols: number): RowScratch {
  return { old: new Float64Array(cols), x: new Float64Array(cols) }
}

type Reconstruction = Pick<LowRankFactors, 'dtype' | 'cols' | 'rank' | 'v'>

/**
 * x[j] = sum over k of u[uAt + k]·v[k][j], added left to right from 0 in k order (the order the
 * format fixes), four rows of V per sweep over x: contiguous reads, about twice as fast as a dot
 * product per element, and the same bits.
 */
function productRow(
  u: Float64Array,
  uAt: number,
  v: Float64Array,
  rank: number,
  x: Float64Array,
): void {
  const cols = x.length
  // 0 + p is p, as the first addition of the format's sum gives.
  x.fill(0)
  let k = 0
  for (; k + 4 <= rank; k += 4) {
    const u0 = u[uAt + k] as number
    const u1 = u[uAt + k + 1] as number
    const u2 = u[uAt + k + 2] as number
    const u3 = u[uAt + k + 3] as number
    const o0 = k * cols
    const o1 = o0 + cols
    const o2 = o1 + cols
    const o3 = o2 + cols
    for (let j = 0; j < cols; j++) {
      x[j] =
        (x[j] as number) +
        u0 * (v[o0 + j] as number) +
        u1 * (v[o1 + j] as number) +
        u2 * (v[o2 + j] as number) +
        u3 * (v[o3 + j] as number)
    }
  }
  for (; k < rank; k++) {
    const c = u[uAt + k] as number
    const o = k * cols
    for (let j = 0; j < cols; j++)
      x[j] = (k === 0 ? 0 : (x[j] as number)) + c * (v[o + j] as number)
  }
}

/**
 * Writes into `out` (cols elements) the reconstruction of one row from its old bytes and its row
 * of U (`u[uAt, uAt + rank)`), in the fixed arithmetic the format defines (lowrank-format.ts).
 * The encoder and the reader both call this, so what the residual corrects is exactly what a
 * reader computes.
 */
export function reconstructRow(
  f: Reconstruction,
  u: Float64Array,
  uAt: number,
  oldRow: Uint8Array,
  out: Uint8Array,
  s: RowScratch,
): void {
  const { cols, rank } = f
  const { old, x } = s
  productRow(u, uAt, f.v, rank, x)
  if (f.dtype === 'F32') {
    // What decodeInto and encodeInto do for F32 (a typed-array store rounds to nearest, ties to
    // even), in a loop: TypedArray.set between element types is several times slower here.
    const from = f32View(oldRow, 0)
    const to = f32View(out, 1)
    for (let j = 0; j < cols; j++) {
      const value = (from[j] as number) + (x[j] as number)
      // NaN's bits are not fixed by IEEE rounding; 0 is, and the residual restores the element.
      to[j] = Number.isNaN(value) ? 0 : value
    }
    if (to.buffer !== out.buffer) out.set(new Uint8Array(to.buffer, to.byteOffset, out.length))
    return
  }
  decodeInto(f.dtype, oldRow, old)
  for (let j = 0; j < cols; j++) {
    const value = (old[j] as number) + (x[j] as number)
    x[j] = Number.isNaN(value) ? 0 : value
  }
  encodeInto(f.dtype, x, cols, out)
}

/** The F32 elements of `bytes`, through an aligned copy in scratch `slot` when needed. */
function f32View(bytes: Uint8Array, slot: 0 | 1): Float32Array {
  const a = aligned(bytes, 4, slot)
  return new Float32Array(a.buffer, a.byteOffset, a.length >>> 2)
}

/** The elements of a row as f64 values (decodeInto, with F32 in a loop: see reconstructRow). */
export function decodeRow(dtype: LowRankDType, bytes: Uint8Array, out: Float64Array): void {
  if (dtype !== 'F32') {
    decodeInto(dtype, bytes, out)
    return
  }
  const from = f32View(bytes, 0)
  for (let j = 0; j < from.length; j++) out[j] = from[j] as number
}

function bitsAt(bytes: Uint8Array, at: number, size: number): number {
  let bits = 0
  for (let i = size - 1; i >= 0; i--) bits = bits * 256 + (bytes[at + i] as number)
  return bits
}

function setBitsAt(bytes: Uint8Array, at: number, size: number, bits: number): void {
  let rest = bits
  for (let i = 0; i < size; i++) {
    bytes[at + i] = rest % 256
    rest = Math.floor(rest / 256)
  }
}

/** Collects the residual records of a reconstruction, in element order. */
export interface ResidualWriter {
  /** Compares one reconstructed row with the new one and records the elements that differ. */
  compare(row: number, made: Uint8Array, wanted: Uint8Array): void
  count: number
  bytes(): Uint8Array
  /** Bytes written so far. */
  readonly size: number
}

export function createResidualWriter(cols: number, size: number): ResidualWriter {
  const w = createWriter(1024)
  const modulus = 2 ** (8 * size)
  let next = 0
  const r: ResidualWriter = {
    count: 0,
    compare(row, made, wanted) {
      if (Buffer.from(made.buffer, made.byteOffset, made.length).equals(wanted)) return
      for (let j = 0, at = 0; j < cols; j++, at += size) {
        if (made[at] === wanted[at] && made[at + 1] === wanted[at + 1]) {
          if (size === 2 || (made[at + 2] === wanted[at + 2] && made[at + 3] === wanted[at + 3]))
            continue
        }
        const position = row * cols + j
        let diff = (bitsAt(wanted, at, size) - bitsAt(made, at, size) + modulus) % modulus
        if (diff >= modulus / 2) diff -= modulus
        reserve(w, 20)
        putVarint(w, position - next)
        putVarint(w, diff >= 0 ? 2 * diff : -2 * diff - 1)
        next = position + 1
        r.count++
      }
    },
    bytes: () => w.buf.slice(0, w.length),
    get size() {
      return w.length
    },
  }
  return r
}

/** Applies residual records to reconstructed rows, in element order. */
export interface ResidualReader {
  /** Corrects `out`, which holds elements [from, from + out.length / size) of the tensor. */
  apply(out: Uint8Array, from: number): void
  /** Throws BAD_DELTA unless every record was applied and nothing follows them. */
  end(): void
}

export function createResidualReader(
  residual: Uint8Array,
  count: number,
  elements: number,
  size: number,
): ResidualReader {
  const c: VarintCursor = { bytes: residual, pos: 0 }
  const modulus = 2 ** (8 * size)
  let left = count
  let position = -1
  let diff = 0
  function load(): void {
    if (left === 0) {
      position = Number.POSITIVE_INFINITY
      return
    }
    left--
    position += 1 + readVarint(c)
    const z = readVarint(c)
    diff = z % 2 === 0 ? z / 2 : -(z + 1) / 2
    if (position >= elements) throw badDelta(`a residual record is past element ${elements - 1}`)
    if (Math.abs(diff) > modulus / 2) throw badDelta('a residual difference is out of range')
  }
  load()
  return {
    apply(out, from) {
      const to = from + out.length / size
      while (position < to) {
        const at = (position - from) * size
        setBitsAt(out, at, size, (bitsAt(out, at, size) + diff + modulus) % modulus)
        load()
      }
    },
    end() {
      if (position !== Number.POSITIVE_INFINITY) throw badDelta('residual records are left over')
      if (c.pos !== residual.length) throw badDelta('bytes follow its residual records')
    },
  }
}
