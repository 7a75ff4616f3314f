import type { Series } from './measure.ts'
import { median, throughput } from './stats.ts'
import type { ResultRow, Target, Unit } from './types.ts'

export interface Subject {
  scenario: string
  subject: string
}

type Extra = Partial<Pick<ResultRow, 'target' | 'note' | 'ratioTo'>>

/** A row whose value is the median of its runs. */
export function row(
  who: Subject,
  metric: string,
  unit: Unit,
  runs: number[],
  extra: Extra = {},
): ResultRow {
  return { ...who, metric, unit, runs, value: runs.length ? median(runs) : null, ...extra }
}

/** A subject that could not be measured: no value, and a note that says why. */
export function unavailable(who: Subject, metric: string, unit: Unit, note: string): ResultRow {
  return { ...who, metric, unit, runs: [], value: null, note }
}

export interface TimingTargets {
  throughput?: Target
  peakRss?: Target
}

/** Throughput (MB/s of `bytes`), wall time and peak RSS of a timed series. */
export function timingRows(
  who: Subject,
  series: Series,
  bytes: number,
  targets: TimingTargets = {},
): ResultRow[] {
  const mbs = series.seconds.map((s) => throughput(bytes, s))
  const rows = [
    row(who, 'throughput', 'MB/s', mbs, targets.throughput ? { target: targets.throughput } : {}),
    row(who, 'time', 's', series.seconds),
  ]
  if (series.peakRssMiB.length > 0) {
    rows.push(
      row(
        who,
        'peak RSS',
        'MiB',
        series.peakRssMiB,
        targets.peakRss ? { target: targets.peakRss } : {},
      ),
    )
  } else {
    rows.push(unavailable(who, 'peak RSS', 'MiB', `needs GNU time (apt-get install -y time)`))
  }
  return rows
}

/** Throughput is better when higher; time, memory and bytes when lower. */
export function higherIsBetter(unit: Unit): boolean {
  return unit === 'MB/s'
}

/**
 * Sets `ratioTo` on every row that has the reference subject's metric: how many times better the
 * reference is than that row (7.0 = the reference is 7× faster, or 7× smaller).
 */
export function addRatios(rows: ResultRow[], reference: string): ResultRow[] {
  return rows.map((r) => {
    if (r.subject === reference || r.value === null || r.unit === 'x') return r
    const ref = rows.find((x) => x.subject === reference && x.metric === r.metric)
    if (!ref || ref.value === null || ref.value === 0 || r.value === 0) return r
    const value = higherIsBetter(r.unit) ? ref.value / r.value : r.value / ref.value
    return { ...r, ratioTo: { subject: reference, value } }
  })
}
