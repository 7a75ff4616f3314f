import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { experimentRepo } from '../data/experiments.ts'
import { removeTree } from '../fsutil.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { measureSeries, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import type { ResultRow, Target } from '../types.ts'
import { expSandbox, scaledCount, timeRows, warmTree } from './exp-common.ts'

const NAME = 'exp-sync'
const EXPERIMENTS = 1000
/** 100,000 log lines in all. */
const LINES = 100
const FIRST: Target = {
  on: 'value',
  op: '<',
  threshold: 10,
  text: '< 10 s (1,000)',
  source: 'issue 6',
}
const AGAIN: Target = { on: 'value', op: '<', threshold: 1, text: '< 1 s', source: 'issue 6' }

interface SyncJson {
  changes: Array<{ action: string; on: string }>
  conflicts: unknown[]
  errors: unknown[]
  skipped: unknown[]
}

/** Throws unless a sync report shows exactly `copied` experiments copied and nothing else. */
export function checkSyncReport(stdout: string, copied: number): void {
  const report = JSON.parse(stdout) as SyncJson
  const copies = report.changes.filter((c) => c.action === 'copy').length
  const trouble = report.conflicts.length + report.errors.length + report.skipped.length
  if (copies !== copied || report.changes.length !== copied || trouble > 0) {
    throw new Error(
      `mlvc exp sync: ${report.changes.length} changes (${copies} copies), ${trouble} conflicts, errors or skips; expected ${copied} copies`,
    )
  }
}

/** A copy of the cached repository (sync writes its index and history) and a destination. */
async function freshPair(ctx: BenchContext, source: string) {
  const base = await ctx.work.tempDir('exp-sync')
  const a = join(base, 'a')
  await exec({ file: 'cp', args: ['-a', source, a] })
  return { base, a, b: join(base, 'b') }
}

function syncCommand(sb: Sandbox, a: string, b: string) {
  return sb.mlvc(a, ['--json', 'exp', 'sync', a, b])
}

/** The cached repository to sync from, its size, and whether B already holds everything. */
interface SyncCase {
  source: string
  count: number
  again: boolean
}

async function syncTrial(ctx: BenchContext, sb: Sandbox, c: SyncCase): Promise<Trial> {
  const { base, a, b } = await freshPair(ctx, c.source)
  if (c.again) checkSyncReport(await exec(syncCommand(sb, a, b)), c.count)
  warmTree(a)
  if (c.again) warmTree(b)
  return { command: syncCommand(sb, a, b), cleanup: () => removeTree(base) }
}

async function syncRows(ctx: BenchContext, sb: Sandbox, c: SyncCase): Promise<ResultRow[]> {
  const n = c.count.toLocaleString('en-US')
  const subject = c.again
    ? `mlvc exp sync again, nothing new (${n})`
    : `mlvc exp sync, ${n} new experiments`
  const series = await measureSeries(ctx, { label: subject, setup: () => syncTrial(ctx, sb, c) })
  for (const sample of series.samples) checkSyncReport(sample.stdout, c.again ? 0 : c.count)
  return timeRows({ scenario: NAME, subject }, series, c.again ? AGAIN : FIRST)
}

export const expSync: Scenario = {
  name: NAME,
  title: '`mlvc exp sync` of experiment repositories between two folders',
  issue: 6,
  about: [
    'A dbx repository of 1,000 experiments with 100 log lines each (100,000 in all), written once',
    'by mlvc’s logger API into `.bench/data/` (--size under 1 GiB scales the count down). Each',
    'run copies it to a fresh folder A (sync writes its index and history) and reads it into the',
    'page cache. Timed: `mlvc exp sync A B` into a folder B that does not exist yet, which must',
    'copy every experiment; then, after an untimed first sync, the same command again, which must',
    'change nothing. Both sides are checked from the `--json` report.',
  ].join('\n'),
  async run(ctx) {
    const count = scaledCount(EXPERIMENTS, ctx.options.size)
    ctx.log(`${NAME}: repository of ${count} experiments (${LINES} log lines each)`)
    const source = await experimentRepo(ctx.work.data, { experiments: count, lines: LINES })
    const sb = await expSandbox(ctx)
    try {
      return [
        ...(await syncRows(ctx, sb, { source, count, again: false })),
        ...(await syncRows(ctx, sb, { source, count, again: true })),
      ]
    } finally {
      await removeTree(sb.home)
    }
  },
}
