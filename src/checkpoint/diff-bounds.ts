import { compareStats, type TensorStats } from '../tensors/index.ts'
import type { KnownStats } from './version.ts'

export interface Range {
  min: number
  max: number
}

/**
 * What two statistics summaries of a tensor's versions A and B imply about the change, without the
 * data: bounds that hold for every pair of tensors with those summaries. From exact statistics
 * they are compareStats' bounds (up to its 1e-12 rounding); from a stub's 4-digit figures every
 * value is widened by its rounding first, so the bounds still hold.
 */
export interface StatsBounds {
  /** ‖B − A‖. */
  l2Delta: Range
  /** ‖B − A‖ / ‖A‖. */
  relChange: Range
  /** max |B − A|: at least ‖Δ‖/√n, at most the widest gap between the two value ranges. */
  maxAbsDelta: Range
  /** A·B / (‖A‖‖B‖) = (‖A‖² + ‖B‖² − ‖Δ‖²) / (2‖A‖‖B‖). */
  cosine: Range
  /** mean(B) − mean(A), as the summaries give it. */
  meanShift: number
  /** ‖B‖ / ‖A‖, as the summaries give it. */
  normRatio: number
  /** True when the summaries were rounded (a stub's figures): the ranges are wider. */
  rounded: boolean
}

/** Half a unit in the 4th significant digit is at most 5e-4 of the printed value. */
const ROUNDING = 5e-4

interface Widened {
  lo: (x: number) => number
  hi: (x: number) => number
}

function widen(eps: number): Widened {
  return { lo: (x) => x - eps * Math.abs(x), hi: (x) => x + eps * Math.abs(x) }
}

function deltaNorm(a: TensorStats, b: TensorStats, w: Widened, eps: number): Range | undefined {
  if (eps === 0) return compareStats(a, b).deltaNorm
  const n = a.count
  // The true values lie within eps·|printed| of the printed ones.
  const slack = (x: number, y: number) => eps * (Math.abs(x) + Math.abs(y))
  const gap = (x: number, y: number) => Math.max(0, Math.abs(x - y) - slack(x, y))
  const span = (x: number, y: number) => Math.abs(x - y) + slack(x, y)
  const min = Math.sqrt(n * (gap(a.mean, b.mean) ** 2 + gap(a.std, b.std) ** 2))
  const spread = w.hi(a.std) + w.hi(b.std)
  const max = Math.min(
    Math.sqrt(n * (span(a.mean, b.mean) ** 2 + spread ** 2)),
    w.hi(a.l2) + w.hi(b.l2),
  )
  return { min, max: Math.max(min, max) }
}

/** cos as a function of the norms; decreasing in ‖Δ‖, not monotone in ‖A‖ or ‖B‖. */
function cosineRange(na: Range, nb: Range, d: Range): Range {
  const f = (x: number, y: number, z: number) => (x * x + y * y - z * z) / (2 * x * y)
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const [z, pick] of [
    [d.max, 'min'],
    [d.min, 'max'],
  ] as const) {
    // Extremes over the box of norms: corners, and where ∂f/∂x = 0 (x² = y² − z²) on an edge.
    const points: Array<[number, number]> = []
    for (const x of [na.min, na.max]) for (const y of [nb.min, nb.max]) points.push([x, y])
    for (const y of [nb.min, nb.max]) {
      const x = Math.sqrt(Math.max(0, y * y - z * z))
      if (x > na.min && x < na.max) points.push([x, y])
    }
    for (const x of [na.min, na.max]) {
      const y = Math.sqrt(Math.max(0, x * x - z * z))
      if (y > nb.min && y < nb.max) points.push([x, y])
    }
    for (const [x, y] of points) {
      const v = f(x, y, z)
      if (pick === 'min') min = Math.min(min, v)
      else max = Math.max(max, v)
    }
  }
  const clamp = (v: number) => Math.max(-1, Math.min(1, v))
  return { min: clamp(min), max: clamp(max) }
}

/**
 * Bounds on the change between two versions of a tensor from their statistics alone; undefined
 * when they say nothing (different element counts, NaN or infinities, an all-zero side).
 */
export function boundsFromStats(a: KnownStats, b: KnownStats): StatsBounds | undefined {
  const x = a.value
  const y = b.value
  const clean = (s: TensorStats) => s.nan + s.posInf + s.negInf === 0
  if (x.count !== y.count || x.count === 0 || !clean(x) || !clean(y)) return undefined
  if (!(x.l2 > 0 && y.l2 > 0)) return undefined
  const rounded = a.rounded || b.rounded
  const eps = rounded ? ROUNDING : 0
  const w = widen(eps)
  const d = deltaNorm(x, y, w, eps)
  if (!d) return undefined
  const na = { min: w.lo(x.l2), max: w.hi(x.l2) }
  const nb = { min: w.lo(y.l2), max: w.hi(y.l2) }
  const widest = Math.max(w.hi(y.max) - w.lo(x.min), w.hi(x.max) - w.lo(y.min))
  return {
    l2Delta: d,
    relChange: { min: d.min / na.max, max: d.max / na.min },
    maxAbsDelta: {
      min: d.min / Math.sqrt(x.count),
      max: Math.max(d.min / Math.sqrt(x.count), widest),
    },
    cosine: cosineRange(na, nb, d),
    meanShift: y.mean - x.mean,
    normRatio: y.l2 / x.l2,
    rounded,
  }
}
