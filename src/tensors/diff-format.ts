import type { DiffStats } from './diff.ts'
import { formatNumber } from './stats-format.ts'

/**
 * One short deterministic line for `git diff`: `changed=1.250e-01 (128/1024) Δl2=… rel=… max=…
 * cos=… delta=…B/…B`, with `nonfinite=N` when there are any.
 */
export function formatDiff(diff: DiffStats, digits = 4): string {
  const f = (x: number) => formatNumber(x, digits)
  const parts = [
    `changed=${f(diff.changedFraction)} (${diff.changed}/${diff.count})`,
    `Δl2=${f(diff.l2Delta)}`,
    `rel=${f(diff.relChange)}`,
    `max=${f(diff.maxAbsDelta)}`,
    `cos=${f(diff.cosine)}`,
    `delta=${diff.deltaBytes}B/${diff.fullBytes}B`,
  ]
  if (diff.nonFinite > 0) parts.push(`nonfinite=${diff.nonFinite}`)
  return parts.join(' ')
}
