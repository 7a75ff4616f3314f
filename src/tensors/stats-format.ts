import { MlvcError } from '../core/index.ts'
import type { TensorStats } from './stats.ts'

/**
 * A number in fixed significant digits: `-1.234e-03`, `5.000e+00`, `nan`, `inf`, `-inf`.
 * Deterministic everywhere: Number.prototype.toExponential is exactly specified by ECMAScript.
 */
export function formatNumber(x: number, digits = 4): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Number.POSITIVE_INFINITY) return 'inf'
  if (x === Number.NEGATIVE_INFINITY) return '-inf'
  const text = x.toExponential(digits - 1)
  const e = text.indexOf('e')
  const exponent = text.slice(e + 2)
  return `${text.slice(0, e + 2)}${exponent.length < 2 ? `0${exponent}` : exponent}`
}

/**
 * One short line for stubs and `git diff`: mean, std, min, max and norm, then the counts of zeros,
 * NaN and infinities when there are any. `digits` significant digits (default 4).
 */
export function formatStats(stats: TensorStats, digits = 4): string {
  const f = (x: number) => formatNumber(x, digits)
  const parts = [
    `mean=${f(stats.mean)}`,
    `std=${f(stats.std)}`,
    `min=${f(stats.min)}`,
    `max=${f(stats.max)}`,
    `l2=${f(stats.l2)}`,
  ]
  if (stats.zeros > 0) parts.push(`zeros=${stats.zeros}`)
  if (stats.nan > 0) parts.push(`nan=${stats.nan}`)
  if (stats.posInf > 0) parts.push(`+inf=${stats.posInf}`)
  if (stats.negInf > 0) parts.push(`-inf=${stats.negInf}`)
  return parts.join(' ')
}

/**
 * The fields of TensorStats in the order statistics are computed, which is the key order of their
 * JSON in manifests (so of ids) and of packed and tabled statistics.
 */
export const STATS_FIELDS = [
  'count',
  'mean',
  'std',
  'min',
  'max',
  'l2',
  'nan',
  'posInf',
  'negInf',
  'zeros',
] as const satisfies ReadonlyArray<keyof TensorStats>

/** TensorStats as JSON can hold it: NaN (no finite element) becomes null. */
export interface TensorStatsJSON {
  count: number
  mean: number | null
  std: number | null
  min: number | null
  max: number | null
  l2: number | null
  nan: number
  posInf: number
  negInf: number
  zeros: number
}

const COUNTS = ['count', 'nan', 'posInf', 'negInf', 'zeros'] as const
const VALUES = ['mean', 'std', 'min', 'max', 'l2'] as const

export function statsToJSON(stats: TensorStats): TensorStatsJSON {
  const json = { ...stats } as Record<string, number | null>
  for (const key of VALUES) if (!Number.isFinite(stats[key])) json[key] = null
  return json as unknown as TensorStatsJSON
}

/**
 * Reads statistics back from JSON (a manifest, a stub), checking every field. `where` names the
 * tensor for the error. A null l2 reads back as Infinity (it never is NaN, but may overflow).
 */
export function statsFromJSON(value: unknown, where: string): TensorStats {
  const bad = (why: string) =>
    new MlvcError('CORRUPT', `statistics of ${where}: ${why}`, {
      hint: 'the manifest or stub was edited or damaged; mlvc can recompute them from the data',
    })
  if (typeof value !== 'object' || value === null) throw bad('not an object')
  const json = value as Record<string, unknown>
  const counted = (key: (typeof COUNTS)[number]): number => {
    const v = json[key]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw bad(`${key} must be a count`)
    return v
  }
  const valued = (key: (typeof VALUES)[number]): number => {
    const v = json[key]
    if (v === null) return key === 'l2' ? Number.POSITIVE_INFINITY : Number.NaN
    if (typeof v === 'number' && Number.isFinite(v)) return v
    throw bad(`${key} must be a number or null`)
  }
  const count = counted('count')
  const nan = counted('nan')
  const posInf = counted('posInf')
  const negInf = counted('negInf')
  const zeros = counted('zeros')
  const finite = count - nan - posInf - negInf
  if (finite < 0 || zeros > finite) throw bad('the counts do not add up')
  // Counts first: the key order these objects have always had (statsToJSON keeps it).
  return {
    count,
    nan,
    posInf,
    negInf,
    zeros,
    mean: valued('mean'),
    std: valued('std'),
    min: valued('min'),
    max: valued('max'),
    l2: valued('l2'),
  }
}
