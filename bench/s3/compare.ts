import { pushAll } from '../../src/core/index.ts'
import type { BenchContext } from '../context.ts'
import { measureInterleaved, perBytePairs, type Series, type Trial } from '../measure.ts'
import { row, type TimingTargets, timingRows, unavailable } from '../rows.ts'
import type { ResultRow, Target } from '../types.ts'

/** One subject of a comparison: how to set up a run, or why it cannot run here. */
export type Contender =
  | { label: string; setup: () => Promise<Trial>; targets?: TimingTargets }
  | { label: string; missing: string }

export interface Compared {
  rows: ResultRow[]
  /** The series of each subject that ran, by label. */
  series: Map<string, Series>
}

/**
 * Times the subjects that can run with their runs alternating (`measureInterleaved`: each round
 * sees the same machine), as throughput of `bytes`, time and peak RSS; the others get a "not
 * available" row that says why.
 */
export async function compare(
  ctx: BenchContext,
  scenario: string,
  bytes: number,
  contenders: readonly Contender[],
): Promise<Compared> {
  const running = contenders.flatMap((c) => ('setup' in c ? [c] : []))
  const measured = await measureInterleaved(
    ctx,
    running.map((c) => ({ label: c.label, setup: c.setup })),
  )
  const series = new Map(running.map((c, i) => [c.label, measured[i] as Series]))
  const rows: ResultRow[] = []
  for (const c of contenders) {
    const who = { scenario, subject: c.label }
    const s = series.get(c.label)
    if (s && 'setup' in c) pushAll(rows, timingRows(who, s, bytes, c.targets))
    else if ('missing' in c) rows.push(unavailable(who, 'throughput', 'MB/s', c.missing))
  }
  return { rows, series }
}

/**
 * How many times faster `a` was than `b`, round by round (their runs alternated), as a row of
 * `a` judged against `target`; "not available" when either did not run.
 */
export function speedRatioRow(
  scenario: string,
  compared: Compared,
  pair: { a: string; b: string; metric: string; target: Target },
): ResultRow {
  const who = { scenario, subject: pair.a }
  const a = compared.series.get(pair.a)
  const b = compared.series.get(pair.b)
  if (!a || !b) {
    const note = `not available: ${a ? pair.b : pair.a} did not run`
    return { ...unavailable(who, pair.metric, 'x', note), target: pair.target }
  }
  // Both moved the same bytes, so b's time per byte over a's is a's speed over b's.
  return row(who, pair.metric, 'x', perBytePairs(b, 1, a, 1), { target: pair.target })
}
