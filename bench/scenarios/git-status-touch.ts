import { utimes } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { addAndCommit, initRepo, subjectOf } from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { measureSeries } from '../measure.ts'
import { addRatios, row } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'git-status-touch'
const FILE = 'data.bin'
const PEERS: readonly GitPeer[] = ['git-lfs']
const COMMAND = 'git status'
const SPEC: PerToolSpec = {
  scenario: NAME,
  peers: PEERS,
  command: COMMAND,
  metric: 'time',
  unit: 's',
}

// An absolute time in the issue, for a 1 GiB file; smaller --size values only make it easier.
const STATUS_TARGET: Target = {
  on: 'value',
  op: '<',
  threshold: 1,
  text: '< 1 s (1 GiB)',
  source: 'issue 3',
}

/** Sets a file's times to now, as `touch` does. */
export async function touch(path: string): Promise<void> {
  const now = new Date()
  await utimes(path, now, now)
}

async function toolRows(ctx: BenchContext, sb: Sandbox, file: string): Promise<ResultRow[]> {
  const subject = subjectOf(COMMAND, sb.tool)
  const series = await measureSeries(ctx, {
    label: subject,
    setup: async () => {
      const dir = await ctx.work.tempDir(`repo-${sb.tool}`)
      await initRepo(sb, dir)
      const placed = join(dir, FILE)
      await placeFile(file, placed, 'link')
      await addAndCommit(sb, dir, [FILE])
      await touch(placed)
      return {
        command: sb.git(dir, ['status', '--porcelain']),
        warm: [placed],
        cleanup: () => removeTree(dir),
      }
    },
  })
  const listed = series.samples.find((s) => s.stdout.trim() !== '')
  if (listed) {
    throw new Error(`${subject}: a touched, unchanged file was listed: ${listed.stdout.trim()}`)
  }
  const who = { scenario: NAME, subject }
  const rows = [
    row(who, 'time', 's', series.seconds, sb.tool === 'mlvc' ? { target: STATUS_TARGET } : {}),
  ]
  if (series.peakRssMiB.length > 0) rows.push(row(who, 'peak RSS', 'MiB', series.peakRssMiB))
  return rows
}

export const gitStatusTouch: Scenario = {
  name: NAME,
  title: '`git status` after `touch` of a large committed file',
  issue: 3,
  about: [
    'In a fresh repository per run (set up as in `git-add`), the random file is added and',
    'committed, then its modification time is set to now (`touch`). Timed: `git status',
    '--porcelain`, which must list nothing. Git sees new stat data and runs the clean filter on',
    'the whole file: mlvc answers from its stat cache after hashing, git-lfs re-hashes and',
    'rewrites its object. The target (under 1 s) is the issue’s, for a 1 GiB file.',
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    ctx.log(`${NAME}: input ${formatSize(size)} of random bytes`)
    const file = await randomFile(ctx.work.data, size)
    const rows = await rowsPerTool(ctx, SPEC, (sb) => toolRows(ctx, sb, file))
    return addRatios(rows, subjectOf(COMMAND, 'mlvc'))
  },
}
