import { maxOf, minOf, pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { checkpointFile, planCheckpoint } from '../data/safetensors.ts'
import { removeTree } from '../fsutil.ts'
import { CKPT, mlvcHas } from '../git/ckpt.ts'
import { expectedOf } from '../git/content.ts'
import { expectedUpdateChanges } from '../git/diff-check.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureSeries, type SeriesSpec } from '../measure.ts'
import { row, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { addTrial, checkoutTrial, diffTrial } from './ckpt-trials.ts'

const NAME = 'ckpt-rss'
const RSS_TARGET: Target = {
  on: 'value',
  op: '<',
  threshold: 500,
  text: '< 500 MiB',
  source: 'issue 4',
}
const OPERATIONS = ['git add', 'git checkout', 'mlvc diff'] as const
type Operation = (typeof OPERATIONS)[number]
const NO_DIFF = 'not available: this build of mlvc has no `diff` command'

/** "git add (mlvc)", "mlvc diff". */
function toolSubject(op: Operation): string {
  return op === 'mlvc diff' ? op : `${op} (mlvc)`
}

function subjectOf(op: Operation, size: number): string {
  const what = op === 'mlvc diff' ? 'two versions with their data' : 'checkpoint'
  return `${toolSubject(op)}, ${formatSize(size)} ${what}`
}

/** The trial of one operation on checkpoints of about `size` bytes. */
async function specOf(ctx: BenchContext, sb: Sandbox, op: Operation, size: number) {
  const plan = planCheckpoint(size)
  const v1 = await checkpointFile(ctx.work.data, size, 'v1')
  const label = subjectOf(op, size)
  switch (op) {
    case 'git add': {
      const c = { label, file: v1, name: CKPT, tensors: plan.tensors.length }
      return { label, setup: () => addTrial(ctx, sb, c) }
    }
    case 'git checkout': {
      const input = { file: v1, expected: expectedOf(v1, plan.size), label }
      return { label, setup: () => checkoutTrial(ctx, sb, input) }
    }
    case 'mlvc diff': {
      const b = await checkpointFile(ctx.work.data, size, 'update')
      const input = { a: v1, b, expected: expectedUpdateChanges(plan), label }
      return { label, setup: () => diffTrial(ctx, sb, input) }
    }
  }
}

async function operationRows(
  ctx: BenchContext,
  sb: Sandbox,
  op: Operation,
  size: number,
): Promise<ResultRow[]> {
  const spec: SeriesSpec = { ...(await specOf(ctx, sb, op, size)), warmup: 0 }
  const series = await measureSeries(ctx, spec)
  const who = { scenario: NAME, subject: spec.label }
  const large = size === maxOf(ctx.options.rssSizes)
  const target = large ? { target: RSS_TARGET } : {}
  return [
    series.peakRssMiB.length > 0
      ? row(who, 'peak RSS', 'MiB', series.peakRssMiB, target)
      : unavailable(who, 'peak RSS', 'MiB', 'needs GNU time (apt-get install -y time)'),
    row(who, 'time', 's', series.seconds),
  ]
}

/** The larger size's peak over the smaller's, per operation: memory should not follow size. */
function growthRows(rows: ResultRow[], sizes: number[]): ResultRow[] {
  const [small, large] = [minOf(sizes), maxOf(sizes)]
  if (small === large) return []
  const peak = (op: Operation, size: number) =>
    rows.find((r) => r.subject === subjectOf(op, size) && r.metric === 'peak RSS')?.value ?? null
  return OPERATIONS.flatMap((op) => {
    const [a, b] = [peak(op, small), peak(op, large)]
    if (a === null || b === null) return []
    const who = { scenario: NAME, subject: toolSubject(op) }
    return [row(who, `peak RSS ${formatSize(large)} / ${formatSize(small)}`, 'x', [b / a])]
  })
}

export const ckptRss: Scenario = {
  name: NAME,
  title: 'peak memory of adding, checking out and diffing a large checkpoint',
  issue: 4,
  about: [
    'Peak RSS (GNU time `%M` of the timed process: git with the filter processes it waits for, or',
    'the mlvc CLI) for the synthetic checkpoint (`ckpt-growth`) at the chosen size and at 4 GiB',
    '(`--quick`: 4 × the size), each operation in a fresh repository per run, no warm-up run:',
    '`git add` of the checkpoint (the stub must list every tensor); `git checkout main` from a',
    'branch without it (store in the page cache; the file must have the added bytes and `git',
    'status` list nothing); `mlvc --json diff HEAD~1 HEAD` with both versions in the local store',
    '(v1 and the `update`, where every tensor changed; each tensor must be reported changed, with',
    'the count of changed elements computed from the data matching the generator). The target is',
    'for the large size; the ratio rows show whether the peak follows the size. `mlvc diff` is',
    'reported as not available when the built CLI has no `diff` command.',
  ].join('\n'),
  async run(ctx) {
    const sizes = ctx.options.rssSizes
    const sb = await openSandbox(ctx, 'mlvc')
    try {
      const hasDiff = await mlvcHas(sb, ctx.work.run, 'diff')
      const rows: ResultRow[] = []
      for (const size of sizes) {
        ctx.log(`${NAME}: checkpoints of ${formatSize(planCheckpoint(size).size)}`)
        for (const op of OPERATIONS) {
          if (op === 'mlvc diff' && !hasDiff) {
            const who = { scenario: NAME, subject: subjectOf(op, size) }
            const large = size === maxOf(sizes)
            const row = unavailable(who, 'peak RSS', 'MiB', NO_DIFF)
            rows.push(large ? { ...row, target: RSS_TARGET } : row)
          } else {
            pushAll(rows, await operationRows(ctx, sb, op, size))
          }
        }
      }
      return [...rows, ...growthRows(rows, sizes)]
    } finally {
      await removeTree(sb.home)
    }
  },
}
