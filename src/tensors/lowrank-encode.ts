import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { wordsOf } from './changes.ts'
import { formatLowRank, isLowRankDType, type LowRankDType, MAX_RANK } from './lowrank-format.ts'
import { invert, symmetricEigen } from './lowrank-math.ts'
import { createResidualWriter, decodeRow, reconstructRow, rowScratch } from './lowrank-rows.ts'
import { decodeTable, F16 } from './minifloat.ts'

export interface LowRankOptions {
  dtype: DType
  rows: number
  cols: number
  /**
   * Give up once the delta would take this many bytes or more (the alternatives' size).
   * @default the tensor's size
   */
  maxBytes?: number | undefined
  /** The highest rank tried. @default 64 */
  maxRank?: number | undefined
  /**
   * Give up when fewer than this share of the elements changed (a sparse delta is then the better
   * bet). @default 0.5
   */
  minChanged?: number | undefined
}

/** Significand bits and lowest normal exponent of each dtype, for the size of one unit. */
const GRID: Record<LowRankDType, { bits: number; minExponent: number }> = {
  F32: { bits: 23, minExponent: -126 },
  BF16: { bits: 7, minExponent: -126 },
  F16: { bits: 10, minExponent: -14 },
}

interface Problem {
  dtype: LowRankDType
  rows: number
  cols: number
  old: Uint8Array
  next: Uint8Array
  rowBytes: number
  a: Float64Array
  b: Float64Array
}

/** Row i of new − old into `d` (f64, exact for these dtypes); non-finite differences count as 0. */
function differenceRow(p: Problem, i: number, d: Float64Array): void {
  const from = i * p.rowBytes
  decodeRow(p.dtype, p.old.subarray(from, from + p.rowBytes), p.a)
  decodeRow(p.dtype, p.next.subarray(from, from + p.rowBytes), p.b)
  const { a, b } = p
  for (let j = 0; j < p.cols; j++) {
    const v = (b[j] as number) - (a[j] as number)
    d[j] = Number.isFinite(v) ? v : 0
  }
}

interface Sample {
  /** rows × width: the difference at the sampled columns. */
  columns: Float64Array
  width: number
  /** Singular values at or below this are what rounding to the dtype alone would give. */
  noise: number
}

/** The difference at `width` evenly spread columns, and the rounding noise expected there. */
function sampleColumns(p: Problem, width: number): Sample {
  const columns = new Float64Array(p.rows * width)
  const { bits, minExponent } = GRID[p.dtype]
  const at = Array.from({ length: width }, (_, c) => Math.floor(((c + 0.5) * p.cols) / width))
  const old = elementReader(p.dtype, p.old)
  const next = elementReader(p.dtype, p.next)
  let energy = 0
  for (let i = 0; i < p.rows; i++) {
    for (let c = 0; c < width; c++) {
      const index = i * p.cols + (at[c] as number)
      const now = next(index)
      const v = now - old(index)
      columns[i * width + c] = Number.isFinite(v) ? v : 0
      const w = Math.abs(now)
      const exponent = w > 0 && Number.isFinite(w) ? Math.floor(Math.log2(w)) : minExponent
      energy += 2 ** (2 * (Math.max(exponent, minExponent) - bits)) / 12
    }
  }
  const perElement = Math.sqrt(energy / (p.rows * width))
  return { columns, width, noise: perElement * (Math.sqrt(p.rows) + Math.sqrt(width)) }
}

/**
 * An orthonormal basis (rows × rank) of the sample's column space above the noise, or undefined
 * when there is none or the spectrum shows no clear drop (not low rank).
 */
function columnBasis(p: Problem, s: Sample, maxRank: number): Float64Array | undefined {
  const { columns, width } = s
  const gram = new Float64Array(width * width)
  for (let i = 0; i < p.rows; i++) {
    const o = i * width
    for (let x = 0; x < width; x++) {
      const v = columns[o + x] as number
      if (v === 0) continue
      for (let y = x; y < width; y++)
        gram[x * width + y] = (gram[x * width + y] as number) + v * (columns[o + y] as number)
    }
  }
  for (let x = 0; x < width; x++)
    for (let y = 0; y < x; y++) gram[x * width + y] = gram[y * width + x] as number
  const { values, vectors } = symmetricEigen(gram, width)
  let rank = 0
  while (rank < width && Math.sqrt(Math.max(values[rank] as number, 0)) > 4 * s.noise) rank++
  // A rank is only seen as such with a floor of noise-level values beside it.
  if (rank === 0 || rank > maxRank || rank > Math.min(width, p.rows) - 8) return undefined
  const q = new Float64Array(p.rows * rank)
  for (let k = 0; k < rank; k++) {
    const scale = 1 / Math.sqrt(values[k] as number)
    for (let i = 0; i < p.rows; i++) {
      let acc = 0
      for (let c = 0; c < width; c++)
        acc += (columns[i * width + c] as number) * (vectors[c * width + k] as number)
      q[i * rank + k] = acc * scale
    }
  }
  return q
}

/**
 * V = Qᵀ·D (rank × cols), one pass over the rows, four at a time (one load and store of V per
 * four products).
 */
function projectRows(p: Problem, q: Float64Array, rank: number): Float64Array {
  const v = new Float64Array(rank * p.cols)
  const cols = p.cols
  const d0 = new Float64Array(cols)
  const d1 = new Float64Array(cols)
  const d2 = new Float64Array(cols)
  const d3 = new Float64Array(cols)
  const rows = [d0, d1, d2, d3]
  for (let i = 0; i < p.rows; i += 4) {
    const n = Math.min(4, p.rows - i)
    rows.forEach((d, r) => {
      if (r < n) differenceRow(p, i + r, d)
      else d.fill(0)
    })
    for (let k = 0; k < rank; k++) {
      const c0 = q[i * rank + k] as number
      const c1 = n > 1 ? (q[(i + 1) * rank + k] as number) : 0
      const c2 = n > 2 ? (q[(i + 2) * rank + k] as number) : 0
      const c3 = n > 3 ? (q[(i + 3) * rank + k] as number) : 0
      for (let j = 0, o = k * cols; j < cols; j++, o++) {
        v[o] =
          (v[o] as number) +
          (c0 * (d0[j] as number) +
            c1 * (d1[j] as number) +
            c2 * (d2[j] as number) +
            c3 * (d3[j] as number))
      }
    }
  }
  return v
}

/** The share of elements whose bits differ between the two versions. */
function changedShare(p: Problem): number {
  const size = p.dtype === 'F32' ? 4 : 2
  const a = wordsOf(p.old, size, 0)
  const b = wordsOf(p.next, size, 1)
  let changed = 0
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++
  return changed / Math.max(1, a.length)
}

/** Element `index` of `bytes` as a number. */
function elementReader(dtype: LowRankDType, bytes: Uint8Array): (index: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  if (dtype === 'F32') return (i) => view.getFloat32(4 * i, true)
  const table = dtype === 'BF16' ? undefined : decodeTable(F16)
  const wide = new Float32Array(1)
  const bits = new Uint32Array(wide.buffer)
  return (i) => {
    const half = view.getUint16(2 * i, true)
    if (table) return table[half] as number
    bits[0] = half << 16
    return wide[0] as number
  }
}

function gramOfRows(v: Float64Array, rank: number, cols: number): Float64Array {
  const g = new Float64Array(rank * rank)
  for (let x = 0; x < rank; x++) {
    for (let y = x; y < rank; y++) {
      let acc = 0
      for (let j = 0; j < cols; j++)
        acc += (v[x * cols + j] as number) * (v[y * cols + j] as number)
      g[x * rank + y] = acc
      g[y * rank + x] = acc
    }
  }
  return g
}

/**
 * The exact low-rank delta (lowrank-format.ts) from `old` to `next`, two versions of a rows × cols
 * tensor of F32, BF16 or F16, or undefined when the change is not close to low rank or the delta
 * would take maxBytes or more. Factors: a column sample finds the rank and column space, one pass
 * projects every row onto it (V), and the last pass solves each row's U by least squares against
 * the stored (f32) V, reconstructs the row as a reader will, and records where it differs.
 */
export function lowRankDelta(
  old: Uint8Array,
  next: Uint8Array,
  options: LowRankOptions,
): Uint8Array | undefined {
  const { dtype, rows, cols } = options
  if (!isLowRankDType(dtype)) return undefined
  const size = dtypeSize(dtype)
  if (old.length !== rows * cols * size || next.length !== old.length) {
    throw new MlvcError('USAGE', `a low-rank delta needs two tensors of ${rows} × ${cols} ${dtype}`)
  }
  const maxBytes = Math.min(options.maxBytes ?? next.length, next.length)
  const maxRank = Math.min(options.maxRank ?? 64, MAX_RANK, rows, cols)
  const width = Math.min(cols, maxRank + 16)
  const p: Problem = {
    dtype,
    rows,
    cols,
    old,
    next,
    rowBytes: cols * size,
    a: new Float64Array(cols),
    b: new Float64Array(cols),
  }
  if (changedShare(p) < (options.minChanged ?? 0.5)) return undefined
  const q = columnBasis(p, sampleColumns(p, width), maxRank)
  if (!q) return undefined
  const rank = q.length / rows
  const factorBytes = 4 * rank * (rows + cols)
  if (factorBytes + 32 >= maxBytes) return undefined
  const v32 = Float32Array.from(projectRows(p, q, rank))
  const v = Float64Array.from(v32)
  const inverse = invert(gramOfRows(v, rank, cols), rank)
  if (!inverse) return undefined
  const u32 = new Float32Array(rows * rank)
  const residual = solveRows(p, { v, inverse, rank, u32 }, factorBytes, maxBytes)
  if (!residual) return undefined
  return formatLowRank({ dtype, rows, cols, rank }, u32, v32, residual)
}

/** t[k] = V[k]·d for every row k of V, four rows per sweep over d. */
function projectRow(d: Float64Array, v: Float64Array, rank: number, t: Float64Array): void {
  const cols = d.length
  let k = 0
  for (; k + 4 <= rank; k += 4) {
    const o0 = k * cols
    const o1 = o0 + cols
    const o2 = o1 + cols
    const o3 = o2 + cols
    let t0 = 0
    let t1 = 0
    let t2 = 0
    let t3 = 0
    for (let j = 0; j < cols; j++) {
      const dj = d[j] as number
      t0 += dj * (v[o0 + j] as number)
      t1 += dj * (v[o1 + j] as number)
      t2 += dj * (v[o2 + j] as number)
      t3 += dj * (v[o3 + j] as number)
    }
    t[k] = t0
    t[k + 1] = t1
    t[k + 2] = t2
    t[k + 3] = t3
  }
  for (; k < rank; k++) {
    let acc = 0
    for (let j = 0, o = k * cols; j < cols; j++, o++) acc += (d[j] as number) * (v[o] as number)
    t[k] = acc
  }
}

interface Fit {
  v: Float64Array
  inverse: Float64Array
  rank: number
  u32: Float32Array
}

/** Solves each row's U (into fit.u32), reconstructs it and records the residual. */
function solveRows(
  p: Problem,
  fit: Fit,
  factorBytes: number,
  maxBytes: number,
): { count: number; bytes: Uint8Array } | undefined {
  const { rows, cols, dtype } = p
  const { v, inverse, rank, u32 } = fit
  const d = new Float64Array(cols)
  const t = new Float64Array(rank)
  const u = new Float64Array(rank)
  const out = new Uint8Array(p.rowBytes)
  const scratch = rowScratch(cols)
  const residual = createResidualWriter(cols, dtypeSize(dtype))
  for (let i = 0; i < rows; i++) {
    differenceRow(p, i, d)
    projectRow(d, v, rank, t)
    for (let k = 0; k < rank; k++) {
      let acc = 0
      for (let l = 0; l < rank; l++) acc += (inverse[k * rank + l] as number) * (t[l] as number)
      u[k] = Math.fround(acc)
      u32[i * rank + k] = acc
    }
    const from = i * p.rowBytes
    reconstructRow(
      { dtype, cols, rank, v },
      u,
      0,
      p.old.subarray(from, from + p.rowBytes),
      out,
      scratch,
    )
    residual.compare(i, out, p.next.subarray(from, from + p.rowBytes))
    if (factorBytes + residual.size + 32 >= maxBytes) return undefined
  }
  return { count: residual.count, bytes: residual.bytes() }
}
