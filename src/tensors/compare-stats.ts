import type { TensorStats } from './stats.ts'

/**
 * What two statistics summaries of one tensor's versions A and B tell without their data. Shifts
 * and ratios are B against A. The bounds on ‖B − A‖ hold for the exact values, so up to the
 * summaries' own rounding (about 1e-12 relative); they need the same element count and no NaN or
 * infinity in either.
 */
export interface StatsComparison {
  /** True when a field that is computed exactly differs (count, min, max, zeros, NaN, ±Inf). */
  changed: boolean
  meanShift: number
  /** B.std / A.std (Infinity or NaN when A.std is 0). */
  stdRatio: number
  /** ‖B‖ − ‖A‖. */
  normChange: number
  /** ‖B‖ / ‖A‖. */
  normRatio: number
  /**
   * Lower and upper bounds on ‖B − A‖. With n elements, means μ and standard deviations σ:
   * ‖Δ‖² = n·(μB − μA)² + ‖Δ − mean(Δ)‖², and the centered norm lies between √n·|σB − σA| and
   * √n·(σA + σB) by the triangle inequality. Undefined when the conditions above do not hold.
   */
  deltaNorm?: { min: number; max: number }
  /** The same bounds divided by ‖A‖. */
  relChange?: { min: number; max: number }
}

function exactFieldsDiffer(a: TensorStats, b: TensorStats): boolean {
  const same = (x: number, y: number) => x === y || (Number.isNaN(x) && Number.isNaN(y))
  return !(
    a.count === b.count &&
    a.zeros === b.zeros &&
    a.nan === b.nan &&
    a.posInf === b.posInf &&
    a.negInf === b.negInf &&
    same(a.min, b.min) &&
    same(a.max, b.max)
  )
}

export function compareStats(a: TensorStats, b: TensorStats): StatsComparison {
  const out: StatsComparison = {
    changed: exactFieldsDiffer(a, b),
    meanShift: b.mean - a.mean,
    stdRatio: b.std / a.std,
    normChange: b.l2 - a.l2,
    normRatio: b.l2 / a.l2,
  }
  const clean = (s: TensorStats) => s.nan + s.posInf + s.negInf === 0
  if (a.count === b.count && a.count > 0 && clean(a) && clean(b)) {
    const n = a.count
    const shift = (b.mean - a.mean) ** 2
    const min = Math.sqrt(n * (shift + (b.std - a.std) ** 2))
    const max = Math.min(Math.sqrt(n * (shift + (a.std + b.std) ** 2)), a.l2 + b.l2)
    out.deltaNorm = { min, max }
    out.relChange = { min: min / a.l2, max: max / a.l2 }
  }
  return out
}
