import { at, MlvcError, must } from '../core/index.ts'

/**
 * Exact selection of the k-th largest of a stream of non-negative f64 keys, in bounded memory, over
 * several passes of the same keys. A non-negative double orders like its bit pattern, so the
 * selection is a radix search over the bits: pass 1 counts the keys per 20-bit prefix (sign,
 * exponent and 8 mantissa bits: 256 buckets per octave) and finds the bucket holding the k-th
 * largest; pass 2 collects that bucket's keys (if at most maxCandidates) and sorts them, or counts
 * the next 20 bits in another histogram pass. Typical tensors need two passes; those of at most
 * maxCandidates keys one, which collects them all.
 */
export interface KthLargest {
  readonly done: boolean
  /**
   * Valid once done: `key >= threshold` keeps the top k keys and every key tied with the k-th. It
   * is the k-th largest key, except for k = 0 (NaN, which keeps nothing) and k = all (0).
   */
  readonly threshold: number
  /** Feeds keys[0, n) of the current pass (keys ≥ 0, no NaN: map NaN to Infinity). */
  add(keys: Float64Array, n: number): void
  endPass(): void
}

const DIGIT_BITS = 20
const BUCKETS = 1 << DIGIT_BITS
/** Bits of the key below each level's digit: 64 = 20 + 20 + 20 + 4. */
const LOW_BITS = [44, 24, 4, 0] as const

const bits64 = new BigUint64Array(1)
const asDouble = new Float64Array(bits64.buffer)

function doubleOf(bits: bigint): number {
  bits64[0] = bits
  return at(asDouble, 0, 'a reinterpreted double')
}

/** Digit of level `level` of each key, for keys inside [lo, hi]. */
function histogram(
  keys: Float64Array,
  n: number,
  level: number,
  lo: number,
  hi: number,
  counts: Float64Array,
): void {
  const w = new Uint32Array(keys.buffer, keys.byteOffset, 2 * n)
  // In range: i < n, w holds 2n words, and every digit is below counts.length (2^20, or 16 at
  // level 3). The per-element loops read unchecked.
  if (level === 0) {
    for (let i = 0; i < n; i++) {
      const digit = (w[2 * i + 1] as number) >>> 12
      counts[digit] = (counts[digit] as number) + 1
    }
    return
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i] as number
    if (k < lo || k > hi) continue
    const high = w[2 * i + 1] as number
    const low = w[2 * i] as number
    const digit =
      level === 1
        ? ((high & 0xfff) << 8) | (low >>> 24)
        : level === 2
          ? (low >>> 4) & 0xfffff
          : low & 0xf
    counts[digit] = (counts[digit] as number) + 1
  }
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c))
}

/**
 * The rank-th largest (1-based) of the keys, in place: quickselect with a three-way partition (tensor
 * magnitudes repeat a lot), falling back to a sort if the pivots keep being poor. Typed-array sort
 * alone is several times slower here.
 */
export function nthLargest(keys: Float64Array, rank: number): number {
  let lo = 0
  let hi = keys.length
  const target = rank - 1
  // In range: every index read is in [lo, hi), within keys. The per-element loop reads unchecked.
  for (let round = 0; hi - lo > 16 && round < 64; round++) {
    const pivot = median3(
      keys[lo] as number,
      keys[(lo + hi) >>> 1] as number,
      keys[hi - 1] as number,
    )
    // Descending: [lo, above) > pivot, [above, below) = pivot, [below, hi) < pivot.
    let above = lo
    let below = hi
    for (let i = lo; i < below; ) {
      const v = keys[i] as number
      if (v > pivot) {
        keys[i++] = keys[above] as number
        keys[above++] = v
      } else if (v < pivot) {
        keys[i] = keys[--below] as number
        keys[below] = v
      } else {
        i++
      }
    }
    if (target < above) hi = above
    else if (target >= below) lo = below
    else return pivot
  }
  const rest = keys.subarray(lo, hi).sort()
  return at(rest, hi - 1 - target, 'the selected key')
}

export interface KthLargestOptions {
  /** Most keys kept in memory in the collecting pass (8 bytes each). @default 1 << 21 */
  maxCandidates?: number
}

export function kthLargest(k: number, total: number, options: KthLargestOptions = {}): KthLargest {
  const maxCandidates = options.maxCandidates ?? 1 << 21
  if (!Number.isInteger(k) || k < 0 || k > total) {
    throw new MlvcError('USAGE', `cannot select the ${k}-th largest of ${total} values`)
  }
  let done = k === 0 || k === total
  let threshold = k === 0 ? Number.NaN : 0
  let phase: 'histogram' | 'collect' = total <= maxCandidates ? 'collect' : 'histogram'
  let level = 0
  let prefix = 0n
  let lo = 0
  let hi = Number.POSITIVE_INFINITY
  let rank = k
  let counts: Float64Array | null = null
  let counted = 0
  let candidates: Float64Array | null =
    done || phase === 'histogram' ? null : new Float64Array(total)
  let collected = 0
  function endHistogram(h: Float64Array): void {
    let above = 0
    let digit = h.length - 1
    const bucket = (d: number) => must(h[d], 'a histogram bucket')
    while (above + bucket(digit) < rank) above += bucket(digit--)
    rank -= above
    const size = bucket(digit)
    prefix = (prefix << BigInt(level === 3 ? 4 : DIGIT_BITS)) | BigInt(digit)
    const low = BigInt(at(LOW_BITS, level, 'a selection level'))
    lo = doubleOf(prefix << low)
    // The bit patterns above +Infinity are NaN, which no key is.
    const top = doubleOf((prefix << low) | ((1n << low) - 1n))
    hi = Number.isNaN(top) ? Number.POSITIVE_INFINITY : top
    if (low === 0n) {
      threshold = lo
      done = true
    } else if (size <= maxCandidates) {
      phase = 'collect'
      candidates = new Float64Array(size)
    } else {
      level++
    }
  }
  return {
    get done() {
      return done
    },
    get threshold() {
      return threshold
    },
    add(keys, n) {
      if (done) return
      if (phase === 'histogram') {
        counts ??= new Float64Array(level === 3 ? 16 : BUCKETS)
        histogram(keys, n, level, lo, hi, counts)
        counted += n
        return
      }
      const c = candidates as Float64Array
      // In range: i < n ≤ keys.length (add's contract); the per-element loop reads unchecked.
      for (let i = 0; i < n; i++) {
        const key = keys[i] as number
        if (key >= lo && key <= hi) {
          if (collected === c.length) throw new MlvcError('USAGE', 'keys changed between passes')
          c[collected++] = key
        }
      }
    },
    endPass() {
      if (done) return
      if (phase === 'histogram') {
        const h = counts ?? new Float64Array(level === 3 ? 16 : BUCKETS)
        counts = null
        if (counted !== total) throw new MlvcError('USAGE', 'keys changed between passes')
        counted = 0
        endHistogram(h)
        return
      }
      const c = candidates as Float64Array
      if (collected !== c.length) throw new MlvcError('USAGE', 'keys changed between passes')
      threshold = nthLargest(c, rank)
      candidates = null
      done = true
    },
  }
}
