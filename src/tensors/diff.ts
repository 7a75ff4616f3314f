import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { CHUNK, checkAborted, tensorZip, zipBlocks } from './blocks.ts'
import { decodeInto } from './codec.ts'
import { createDeltaMeter } from './delta-encode.ts'
import { addTo, createSum, type Sum, totalOf } from './sums.ts'

/**
 * How tensor B differs from tensor A (same dtype and element count). `changed` is bitwise. The
 * norms, the maximum and the cosine are over the elements finite in both (values as f64; Δ = B − A).
 */
export interface DiffStats {
  count: number
  /** Elements whose bytes differ (a changed NaN payload or 0 → -0 counts). */
  changed: number
  /** changed / count, 0 for an empty tensor. */
  changedFraction: number
  /** ‖Δ‖. */
  l2Delta: number
  /** ‖Δ‖ / ‖A‖: 0 if nothing changed, Infinity if A is all zeros and B is not. */
  relChange: number
  maxAbsDelta: number
  /** A·B / (‖A‖‖B‖), clamped to [-1, 1]; NaN if either is all zeros. */
  cosine: number
  /** Elements where A or B is NaN or infinite, left out of the figures above. */
  nonFinite: number
  /** Exact size of the sparse delta from A to B (see delta-format.ts). */
  deltaBytes: number
  /** Size of B stored whole. */
  fullBytes: number
}

interface State {
  aa: Sum
  bb: Sum
  ab: Sum
  dd: Sum
  maxAbs: number
  nonFinite: number
}

let sumAA = 0
let sumBB = 0
let sumAB = 0
let sumDD = 0
let maxAbs = 0

/**
 * One pass over a chunk; false if a non-finite value (or an overflow) spoiled a sum. Here and in
 * compactFinite, n ≤ the length of x and y: the per-element loops read unchecked.
 */
function scan(x: Float64Array, y: Float64Array, n: number): boolean {
  let aa = 0
  let bb = 0
  let ab = 0
  let dd = 0
  let max = 0
  for (let i = 0; i < n; i++) {
    const a = x[i] as number
    const b = y[i] as number
    const d = b - a
    aa += a * a
    bb += b * b
    ab += a * b
    dd += d * d
    const m = d < 0 ? -d : d
    if (m > max) max = m
  }
  sumAA = aa
  sumBB = bb
  sumAB = ab
  sumDD = dd
  maxAbs = max
  return Number.isFinite(aa + bb + ab + dd)
}

/** Drops the elements where either side is not finite, counting them; returns the kept count. */
function compactFinite(x: Float64Array, y: Float64Array, n: number, state: State): number {
  let kept = 0
  for (let i = 0; i < n; i++) {
    const a = x[i] as number
    const b = y[i] as number
    if (a - a !== 0 || b - b !== 0) {
      state.nonFinite++
      continue
    }
    x[kept] = a
    y[kept++] = b
  }
  return kept
}

function addChunk(x: Float64Array, y: Float64Array, n: number, state: State): void {
  if (!scan(x, y, n)) scan(x, y, compactFinite(x, y, n, state))
  addTo(state.aa, sumAA)
  addTo(state.bb, sumBB)
  addTo(state.ab, sumAB)
  addTo(state.dd, sumDD)
  if (maxAbs > state.maxAbs) state.maxAbs = maxAbs
}

export interface DiffAccumulator {
  /** Adds the next blocks of A and B: the same length, whole elements. */
  update(a: Uint8Array, b: Uint8Array): void
  /** Ends the accumulation and returns the statistics. */
  result(): DiffStats
}

/** Chunks start at fixed element indexes, so results do not depend on the block boundaries. */
export function createDiffAccumulator(dtype: DType, elements: number): DiffAccumulator {
  const size = dtypeSize(dtype)
  const meter = createDeltaMeter({ dtype, elements })
  const x = new Float64Array(CHUNK)
  const y = new Float64Array(CHUNK)
  let filled = 0
  let finished = false
  const state: State = {
    aa: createSum(),
    bb: createSum(),
    ab: createSum(),
    dd: createSum(),
    maxAbs: 0,
    nonFinite: 0,
  }
  return {
    update(a, b) {
      meter.update(a, b)
      for (let pos = 0; pos < a.length; ) {
        const end = pos + Math.min(CHUNK - filled, (a.length - pos) / size) * size
        decodeInto(dtype, a.subarray(pos, end), x, filled)
        filled += decodeInto(dtype, b.subarray(pos, end), y, filled)
        pos = end
        if (filled === CHUNK) {
          addChunk(x, y, CHUNK, state)
          filled = 0
        }
      }
    },
    result() {
      if (finished) throw new MlvcError('USAGE', 'result() was already called')
      finished = true
      const { bytes, changed } = meter.finish()
      if (filled > 0) addChunk(x, y, filled, state)
      const normA = Math.sqrt(totalOf(state.aa))
      const normB = Math.sqrt(totalOf(state.bb))
      const l2Delta = Math.sqrt(totalOf(state.dd))
      const cosine = totalOf(state.ab) / (normA * normB)
      return {
        count: elements,
        changed,
        changedFraction: elements > 0 ? changed / elements : 0,
        l2Delta,
        relChange: l2Delta === 0 ? 0 : l2Delta / normA,
        maxAbsDelta: state.maxAbs,
        cosine: normA === 0 || normB === 0 ? Number.NaN : Math.max(-1, Math.min(1, cosine)),
        nonFinite: state.nonFinite,
        deltaBytes: bytes,
        fullBytes: elements * size,
      }
    },
  }
}

/** Diff statistics of two tensors held in memory. */
export function diffOf(dtype: DType, a: Uint8Array, b: Uint8Array): DiffStats {
  const accumulator = createDiffAccumulator(dtype, a.length / dtypeSize(dtype))
  accumulator.update(a, b)
  return accumulator.result()
}

export interface DiffTensorsOptions {
  dtype: DType
  elements: number
  /** Names of A and B for errors. @default ['old', 'new'] */
  names?: readonly [string, string]
  signal?: AbortSignal | undefined
}

/** Diff statistics of two streamed tensors, reading both in step in bounded memory. */
export async function diffTensors(
  a: AsyncIterable<Uint8Array>,
  b: AsyncIterable<Uint8Array>,
  options: DiffTensorsOptions,
): Promise<DiffStats> {
  const accumulator = createDiffAccumulator(options.dtype, options.elements)
  const names = options.names ?? ['old', 'new']
  for await (const [x, y] of zipBlocks([a, b], tensorZip({ ...options, names }))) {
    checkAborted(options.signal)
    accumulator.update(x, y)
  }
  return accumulator.result()
}
