import { join } from 'node:path'
import { maxOf, pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { checkContent, type Expected, expectedOf, filesUnder, warmFiles } from '../git/content.ts'
import { addAndCommit, initRepo, subjectOf } from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { measureSeries, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { addRatios, row, type Subject, timingRows, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'git-checkout'
const FILE = 'data.bin'
const COMMAND = 'git checkout'
const PEERS: readonly GitPeer[] = ['git-lfs']
const SPEC: PerToolSpec = {
  scenario: NAME,
  peers: PEERS,
  command: COMMAND,
  metric: 'throughput',
  unit: 'MB/s',
}
const CP = 'cp (the machine)'
const MLVC = subjectOf(COMMAND, 'mlvc')

// Both are the issue's own terms, judged against figures of this run: the machine's cp of the
// same file, and a fixed memory bound for a 4 GiB file.
const CP_TARGET: Target = {
  on: 'value',
  op: '<=',
  threshold: 1.5,
  text: '≤ 1.5× cp',
  source: 'issue 3',
}
const RSS_TARGET: Target = {
  on: 'value',
  op: '<',
  threshold: 500,
  text: '< 500 MiB (4 GiB file)',
  source: 'issue 3',
}

interface Input {
  file: string
  size: number
  expected: Expected
}

/** Where each tool keeps what a checkout reads, to put it in the page cache before the clock. */
function storeOf(sb: Sandbox, dir: string): string {
  return sb.tool === 'mlvc' ? join(dir, '.git', 'mlvc') : join(dir, '.git', 'lfs', 'objects')
}

/**
 * A fresh repository whose branch main holds the file and whose branch `empty` does not, left on
 * `empty`; the trial checks out main, then checks the file's bytes and that `git status` is clean.
 */
async function checkoutTrial(sb: Sandbox, dir: string, input: Input): Promise<Trial> {
  await initRepo(sb, dir)
  await exec(sb.git(dir, ['branch', 'empty']))
  await placeFile(input.file, join(dir, FILE), 'link')
  await addAndCommit(sb, dir, [FILE])
  await exec(sb.git(dir, ['checkout', '-q', 'empty']))
  const cleanup = async () => {
    try {
      await checkContent(join(dir, FILE), input.expected, subjectOf(COMMAND, sb.tool))
      const status = await exec(sb.git(dir, ['status', '--porcelain']))
      if (status.trim() !== '') throw new Error(`git status after the checkout: ${status.trim()}`)
    } finally {
      await removeTree(dir)
    }
  }
  warmFiles(await filesUnder(storeOf(sb, dir)))
  return { command: sb.git(dir, ['checkout', '-q', 'main']), cleanup }
}

interface CheckoutSpec {
  input: Input
  subject: string
  /** Timed runs without warm-up. @default --runs after --warmup */
  runs?: number
  /** A peak RSS target. */
  target?: Target
}

async function checkoutRows(
  ctx: BenchContext,
  sb: Sandbox,
  options: CheckoutSpec,
): Promise<ResultRow[]> {
  const { input } = options
  const series = await measureSeries(ctx, {
    label: options.subject,
    ...(options.runs === undefined ? {} : { runs: options.runs, warmup: 0 }),
    setup: async () => checkoutTrial(sb, await ctx.work.tempDir(`repo-${sb.tool}`), input),
  })
  const targets = options.target ? { peakRss: options.target } : {}
  return timingRows({ scenario: NAME, subject: options.subject }, series, input.size, targets)
}

async function cpRows(ctx: BenchContext, input: Input): Promise<ResultRow[]> {
  const series = await measureSeries(ctx, {
    label: CP,
    warm: [input.file],
    setup: async () => {
      const dir = await ctx.work.tempDir('cp')
      const copy = join(dir, FILE)
      return {
        command: { file: 'cp', args: [input.file, copy] },
        cleanup: async () => {
          try {
            await checkContent(copy, input.expected, CP)
          } finally {
            await removeTree(dir)
          }
        },
      }
    },
  })
  return timingRows({ scenario: NAME, subject: CP }, series, input.size)
}

/** mlvc's checkout time over cp's, the figure the issue bounds. */
function cpRatioRow(rows: ResultRow[]): ResultRow {
  const time = (subject: string) =>
    rows.find((r) => r.subject === subject && r.metric === 'time')?.value ?? null
  const who: Subject = { scenario: NAME, subject: MLVC }
  const mlvc = time(MLVC)
  const cp = time(CP)
  if (mlvc === null || cp === null) return unavailable(who, 'time / cp time', 'x', 'not measured')
  return row(who, 'time / cp time', 'x', [mlvc / cp], { target: CP_TARGET })
}

async function inputOf(ctx: BenchContext, size: number): Promise<Input> {
  const file = await randomFile(ctx.work.data, size)
  return { file, size, expected: expectedOf(file, size) }
}

/** mlvc once on the rss size (4 GiB; --quick: 4 × the size), for the memory bound. */
async function largeRows(ctx: BenchContext, sb: Sandbox, size: number): Promise<ResultRow[]> {
  const large = maxOf(ctx.options.rssSizes)
  if (large === size) return []
  ctx.log(`${NAME}: mlvc on ${formatSize(large)}, once`)
  const input = await inputOf(ctx, large)
  const subject = `${MLVC}, ${formatSize(large)}`
  const rows = await checkoutRows(ctx, sb, { input, subject, runs: 1, target: RSS_TARGET })
  return rows.filter((r) => r.metric !== 'throughput')
}

export const gitCheckout: Scenario = {
  name: NAME,
  title: '`git checkout` of a branch that brings a large tracked file back, against `cp`',
  issue: 3,
  about: [
    'A fresh repository per run (set up as in `git-add`) has the random file committed on `main`',
    'and a branch `empty` without it, and is left on `empty` with the tool’s store in the page',
    'cache. Timed: `git checkout main`, which must write the file from the local store; every run',
    'then checks its sha256 and that `git status` lists nothing. `cp` copies the same file from',
    'the page cache to a new file. Peak RSS is GNU time’s `%M` for git, which covers the filter',
    'processes it waits for. mlvc is also measured once on 4 GiB (`--quick`: 4 × the size) for the',
    'memory bound. git-lfs smudges through Git, which holds the whole file in memory.',
  ].join('\n'),
  async run(ctx) {
    const input = await inputOf(ctx, ctx.options.size)
    ctx.log(`${NAME}: input ${formatSize(input.size)} of random bytes`)
    const rows = await cpRows(ctx, input)
    const large: ResultRow[] = []
    const perTool = await rowsPerTool(ctx, SPEC, async (sb) => {
      if (sb.tool === 'mlvc') pushAll(large, await largeRows(ctx, sb, input.size))
      return checkoutRows(ctx, sb, { input, subject: subjectOf(COMMAND, sb.tool) })
    })
    pushAll(rows, perTool)
    const withRatios = addRatios(rows, MLVC)
    return [...withRatios, cpRatioRow(withRatios), ...large]
  },
}
