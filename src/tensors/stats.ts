import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { CHUNK, checkAborted } from './blocks.ts'
import { decodeInto } from './codec.ts'
import {
  addMoments,
  addTo,
  createMoments,
  createSum,
  type Moments,
  type Sum,
  totalOf,
} from './sums.ts'

/**
 * Summary statistics of one tensor. Moments, extremes and the norm are over its finite elements (as
 * NumPy computes them on `x[np.isfinite(x)]` in float64); NaN and infinities are only counted.
 * mean, std, min and max are NaN when there is no finite element. Integers are converted to f64,
 * so I64/U64 values beyond 2^53 are rounded; BOOL counts as 0 and 1.
 *
 * Accuracy against NumPy's float64 results: std and l2 within 1e-12 relative, mean within
 * 1e-12·(|mean| + std) (the bound of summing CHUNK values in a row; the committed fixtures agree to
 * 5e-15); counts, min and max exactly.
 */
export interface TensorStats {
  /** All elements, NaN and infinities included. */
  count: number
  mean: number
  /** Population standard deviation (NumPy's default, ddof=0). */
  std: number
  min: number
  max: number
  /** Euclidean norm. Overflows to Infinity for F64 tensors with values beyond about 1e154. */
  l2: number
  nan: number
  posInf: number
  negInf: number
  /** Elements equal to zero (either sign). */
  zeros: number
}

interface State {
  count: number
  nan: number
  posInf: number
  negInf: number
  zeros: number
  min: number
  max: number
  moments: Moments
  squares: Sum
}

// Results of scan(), kept in module variables so the hot loop allocates nothing.
let chunkSum = 0
let chunkSquares = 0
let chunkMin = 0
let chunkMax = 0
let chunkZeros = 0

/**
 * One pass over x[0, n); returns false if a NaN or infinity (or an overflow) made a sum non-finite.
 * Here and below, n ≤ x.length: the per-element loops read unchecked.
 */
function scan(x: Float64Array, n: number): boolean {
  let sum = 0
  let squares = 0
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  let zeros = 0
  for (let i = 0; i < n; i++) {
    const v = x[i] as number
    sum += v
    squares += v * v
    if (v < min) min = v
    if (v > max) max = v
    if (v === 0) zeros++
  }
  chunkSum = sum
  chunkSquares = squares
  chunkMin = min
  chunkMax = max
  chunkZeros = zeros
  return Number.isFinite(sum) && Number.isFinite(squares)
}

/** Counts NaN and infinities and moves the finite values to the front; returns their number. */
function compactFinite(x: Float64Array, n: number, state: State): number {
  let kept = 0
  for (let i = 0; i < n; i++) {
    const v = x[i] as number
    if (Number.isNaN(v)) state.nan++
    else if (v === Number.POSITIVE_INFINITY) state.posInf++
    else if (v === Number.NEGATIVE_INFINITY) state.negInf++
    else x[kept++] = v
  }
  return kept
}

function addChunk(x: Float64Array, n: number, state: State): void {
  state.count += n
  let finite = n
  if (!scan(x, n)) {
    finite = compactFinite(x, n, state)
    scan(x, finite)
  }
  if (finite === 0) return
  const mean = chunkSum / finite
  let m2 = 0
  for (let i = 0; i < finite; i++) {
    const d = (x[i] as number) - mean
    m2 += d * d
  }
  addMoments(state.moments, finite, mean, m2)
  addTo(state.squares, chunkSquares)
  if (chunkMin < state.min) state.min = chunkMin
  if (chunkMax > state.max) state.max = chunkMax
  state.zeros += chunkZeros
}

function resultOf(state: State): TensorStats {
  const { n, mean, m2 } = state.moments
  return {
    count: state.count,
    mean: n > 0 ? mean : Number.NaN,
    std: n > 0 ? Math.sqrt(m2 / n) : Number.NaN,
    min: n > 0 ? state.min : Number.NaN,
    max: n > 0 ? state.max : Number.NaN,
    l2: Math.sqrt(totalOf(state.squares)),
    nan: state.nan,
    posInf: state.posInf,
    negInf: state.negInf,
    zeros: state.zeros,
  }
}

export interface StatsAccumulator {
  /** Adds the next bytes of the tensor; pieces may split elements anywhere. */
  update(bytes: Uint8Array): void
  /**
   * Ends the accumulation and returns the statistics. Throws CORRUPT if the bytes end inside an
   * element.
   */
  result(): TensorStats
}

/**
 * Decoding buffers of finished accumulators, reused: a checkpoint may hold 200,000 tiny tensors,
 * and a fresh zeroed buffer of CHUNK values for each would cost more than their statistics.
 */
const spare: Float64Array[] = []
const MAX_SPARE = 4

/**
 * Streams statistics. Chunks start at fixed element indexes (multiples of CHUNK), so the results
 * are bit-identical however the bytes were split into pieces: stubs stay deterministic.
 */
export function createStatsAccumulator(dtype: DType): StatsAccumulator {
  const size = dtypeSize(dtype)
  const values = spare.pop() ?? new Float64Array(CHUNK)
  let filled = 0
  const carry = new Uint8Array(size)
  let carried = 0
  let finished = false
  const state: State = {
    count: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    zeros: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    moments: createMoments(),
    squares: createSum(),
  }
  function addElements(bytes: Uint8Array): void {
    for (let pos = 0; pos < bytes.length; ) {
      const take = Math.min(CHUNK - filled, (bytes.length - pos) / size)
      filled += decodeInto(dtype, bytes.subarray(pos, pos + take * size), values, filled)
      pos += take * size
      if (filled === CHUNK) {
        addChunk(values, CHUNK, state)
        filled = 0
      }
    }
  }
  return {
    update(bytes) {
      if (finished) throw new MlvcError('USAGE', 'update() after result()')
      let pos = 0
      if (carried > 0) {
        pos = Math.min(size - carried, bytes.length)
        carry.set(bytes.subarray(0, pos), carried)
        carried += pos
        if (carried < size) return
        addElements(carry)
        carried = 0
      }
      const end = bytes.length - ((bytes.length - pos) % size)
      addElements(bytes.subarray(pos, end))
      carry.set(bytes.subarray(end))
      carried = bytes.length - end
    },
    result() {
      if (carried > 0) {
        throw new MlvcError(
          'CORRUPT',
          `${dtype} tensor data ends inside an element (${carried} of ${size} bytes)`,
        )
      }
      if (!finished) {
        if (filled > 0) addChunk(values, filled, state)
        if (spare.length < MAX_SPARE) spare.push(values)
      }
      finished = true
      return resultOf(state)
    },
  }
}

/** Statistics of a tensor held in memory. */
export function statsOf(dtype: DType, bytes: Uint8Array): TensorStats {
  const accumulator = createStatsAccumulator(dtype)
  accumulator.update(bytes)
  return accumulator.result()
}

/** Statistics of a tensor streamed as element bytes, in bounded memory. */
export async function tensorStats(
  dtype: DType,
  source: AsyncIterable<Uint8Array>,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<TensorStats> {
  const accumulator = createStatsAccumulator(dtype)
  for await (const piece of source) {
    checkAborted(options.signal)
    accumulator.update(piece)
  }
  return accumulator.result()
}
