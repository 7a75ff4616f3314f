import { join } from 'node:path'
import { pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { addCommand, indexedSize, initRepo, subjectOf } from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { measureSeries } from '../measure.ts'
import { addRatios, timingRows } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { limitRows } from './limits.ts'

const NAME = 'git-add'
const FILE = 'data.bin'
const PEERS: readonly GitPeer[] = ['git-lfs', 'git-annex']
const SPEC: PerToolSpec = {
  scenario: NAME,
  peers: PEERS,
  command: 'git add',
  metric: 'throughput',
  unit: 'MB/s',
}
/** A pointer or stub is far below this; a file Git stored raw is not. */
export const POINTER_LIMIT = 4096

// Issue 3 asks for "at least 5× faster than git-lfs (about 13 s here) and 2× faster than git annex
// add (about 5 s here)": both restate an absolute time measured when it was written, 13 / 5 =
// 2.6 s and 5 / 2 = 2.5 s for 1 GiB. The stricter, 1 GiB in 2.5 s, is judged as a throughput (so
// it holds at any --size); the ratios to the peers timed in this run are reported for reading.
const GIB = 2 ** 30
const ADD_SECONDS_PER_GIB = Math.min(13 / 5, 5 / 2)
export const ADD_TARGET: Target = {
  on: 'value',
  op: '>=',
  threshold: Math.round(GIB / 1e6 / ADD_SECONDS_PER_GIB),
  text: `≥ ${Math.round(GIB / 1e6 / ADD_SECONDS_PER_GIB)} MB/s (1 GiB in ${ADD_SECONDS_PER_GIB} s)`,
  source: 'issue 3',
}

/** The random file to add, and its size. */
interface Input {
  file: string
  size: number
}

async function toolRows(ctx: BenchContext, sb: Sandbox, input: Input): Promise<ResultRow[]> {
  const { file, size } = input
  const subject = subjectOf('git add', sb.tool)
  const series = await measureSeries(ctx, {
    label: subject,
    setup: async () => {
      const dir = await ctx.work.tempDir(`repo-${sb.tool}`)
      await initRepo(sb, dir)
      const placed = join(dir, FILE)
      // git annex add moves its input and drops write permission: it gets a copy.
      await placeFile(file, placed, sb.tool === 'git-annex' ? 'copy' : 'link')
      const cleanup = async () => {
        try {
          const stored = await indexedSize(sb, dir, FILE)
          if (stored > POINTER_LIMIT) {
            throw new Error(`${subject}: Git stored ${stored} bytes for ${FILE}, not a pointer`)
          }
        } finally {
          await removeTree(dir)
        }
      }
      return { command: addCommand(sb, dir, [FILE]), warm: [placed], cleanup }
    },
  })
  const targets = sb.tool === 'mlvc' ? { throughput: ADD_TARGET } : {}
  return timingRows({ scenario: NAME, subject }, series, size, targets)
}

export const gitAdd: Scenario = {
  name: NAME,
  title: '`git add` of a large tracked file: mlvc against git-lfs, git-annex and the machine',
  issue: 3,
  about: [
    'A file of pseudo-random bytes is added in a fresh repository per run, each tool set up as its',
    "documentation says: mlvc by `mlvc install` and `mlvc track '*.bin'` (the built CLI, in a",
    'private HOME with GIT_CONFIG_NOSYSTEM=1), git-lfs by `git lfs install` and',
    "`git lfs track '*.bin'`, git-annex by `git annex init` and `git annex add` (locked mode, so",
    'it gets a copy of the file; the others a hard link). Timed: `git add data.bin` (`git annex add',
    'data.bin`) with the file in the page cache; each run checks that Git stored a pointer, not the',
    'file. The limits are the same file read and hashed with sha256 in one process. The target',
    'is the absolute time behind the issue’s ratios (1 GiB in 2.5 s); the ratios are reported.',
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    ctx.log(`${NAME}: input ${formatSize(size)} of random bytes`)
    const file = await randomFile(ctx.work.data, size)
    const rows = await limitRows(ctx, NAME, file)
    pushAll(rows, await rowsPerTool(ctx, SPEC, (sb) => toolRows(ctx, sb, { file, size })))
    return addRatios(rows, subjectOf('git add', 'mlvc'))
  },
}
