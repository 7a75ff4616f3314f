import { decodeInto } from './codec.ts'
import { createWriter, putVarint, reserve } from './delta-format.ts'
import { badDelta } from './delta-parse.ts'
import { encodeInto } from './encode.ts'
import { type LowRankFactors, readVarint, type VarintCursor } from './lowrank-format.ts'

/** Per-row working memory of the reconstruction. */
export interface RowScratch {
  old: Float64Array
  x: Float64Array
}

export function rowScratch(cols: number): RowScratch {
  return { old: new Float64Array(cols), x: new Float64Array(cols) }
}

type Reconstruction = Pick<LowRankFactors, 'dtype' | 'cols' | 'rank' | 'vt'>

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
  const { cols, rank, vt } = f
  const { old, x } = s
  decodeInto(f.dtype, oldRow, old)
  for (let j = 0, b = 0; j < cols; j++, b += rank) {
    let acc = 0
    for (let k = 0; k < rank; k++) acc += (u[uAt + k] as number) * (vt[b + k] as number)
    const value = (old[j] as number) + acc
    // NaN's bits are not fixed by IEEE rounding; 0 is, and the residual restores the element.
    x[j] = Number.isNaN(value) ? 0 : value
  }
  encodeInto(f.dtype, x, cols, out)
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
