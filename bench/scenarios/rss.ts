import { maxOf, minOf, pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { removeTree } from '../fsutil.ts'
import { measureSeries } from '../measure.ts'
import { mlvcPut } from '../mlvc.ts'
import { row, timingRows, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'rss'
const RSS_LIMIT: Target = {
  on: 'value',
  op: '<',
  threshold: 300,
  text: '< 300 MiB',
  source: 'issue 2',
}
/** "The same for 1 GiB and 4 GiB": the larger file's peak within 10% of the smaller's. */
const SAME: Target = { on: 'value', op: '<=', threshold: 1.1, text: '≤ 1.10×', source: 'issue 2' }

async function putRows(ctx: BenchContext, size: number): Promise<ResultRow[]> {
  const file = await randomFile(ctx.work.data, size)
  const subject = `mlvc put, ${formatSize(size)}`
  const series = await measureSeries(ctx, {
    label: subject,
    warm: [file],
    warmup: 0,
    setup: async () => {
      const dir = await ctx.work.tempDir('mlvc-store')
      return { command: mlvcPut(ctx, dir, [file]), cleanup: () => removeTree(dir) }
    },
  })
  const rows = timingRows({ scenario: NAME, subject }, series, size, { peakRss: RSS_LIMIT })
  return rows.filter((r) => r.metric !== 'time')
}

function peak(rows: ResultRow[], size: number): number | null {
  const subject = `mlvc put, ${formatSize(size)}`
  return rows.find((r) => r.subject === subject && r.metric === 'peak RSS')?.value ?? null
}

export const rss: Scenario = {
  name: NAME,
  title: 'peak memory of `mlvc put` does not grow with the file',
  issue: 2,
  about: [
    'Peak RSS of `mlvc put --no-pin` (fresh store per run, no warm-up run) on random files of the',
    'chosen size and of 4 GiB (`--quick`: 4 × the chosen size), from GNU time `%M`. The ratio row',
    "divides the larger file's median peak by the smaller's; the issue asks for the same peak, read",
    'here as within 10%.',
  ].join('\n'),
  async run(ctx) {
    const sizes = ctx.options.rssSizes
    const rows: ResultRow[] = []
    for (const size of sizes) pushAll(rows, await putRows(ctx, size))
    const [small, large] = [minOf(sizes), maxOf(sizes)]
    if (small === large) return rows
    const who = { scenario: NAME, subject: 'mlvc put' }
    const metric = `peak RSS ${formatSize(large)} / ${formatSize(small)}`
    const a = peak(rows, small)
    const b = peak(rows, large)
    rows.push(
      a === null || b === null
        ? unavailable(who, metric, 'x', 'needs GNU time (apt-get install -y time)')
        : row(who, metric, 'x', [b / a], { target: SAME }),
    )
    return rows
  },
}
