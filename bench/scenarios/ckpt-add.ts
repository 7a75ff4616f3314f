import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { checkpointFile, planCheckpoint } from '../data/safetensors.ts'
import { removeTree } from '../fsutil.ts'
import { CKPT } from '../git/ckpt.ts'
import { subjectOf } from '../git/repos.ts'
import { openSandbox } from '../git/sandbox.ts'
import { measureInterleaved, perBytePairs, type Series, type SeriesSpec } from '../measure.ts'
import { row, timingRows } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { type AddCase, addTrial } from './ckpt-trials.ts'

const NAME = 'ckpt-add'
const ADD = subjectOf('git add', 'mlvc')
const GENERIC = `${ADD}, random .bin (the generic path)`
const FIRST = `${ADD}, checkpoint`
const SECOND = `${ADD}, checkpoint over v1 (update: 2 tensors rewritten, 0.1% of every tensor)`
const NO_SLOWER: Target = {
  on: 'value',
  op: '<=',
  threshold: 1,
  text: '≤ 1.00× (no slower)',
  source: 'issue 4',
}

interface Inputs {
  cases: AddCase[]
  bytes: number[]
}

async function inputsOf(ctx: BenchContext): Promise<Inputs> {
  const size = ctx.options.size
  const plan = planCheckpoint(size)
  const v1 = await checkpointFile(ctx.work.data, size, 'v1')
  const update = await checkpointFile(ctx.work.data, size, 'update')
  const random = await randomFile(ctx.work.data, size)
  const tensors = plan.tensors.length
  return {
    cases: [
      { label: GENERIC, file: random, name: 'data.bin', tensors: undefined },
      { label: FIRST, file: v1, name: CKPT, tensors },
      { label: SECOND, file: update, name: CKPT, tensors, previous: v1 },
    ],
    bytes: [size, plan.size, plan.size],
  }
}

function ratioRow(metric: string, runs: number[], target?: Target): ResultRow {
  const who = { scenario: NAME, subject: ADD }
  return row(who, metric, 'x', runs, target ? { target } : {})
}

export const ckptAdd: Scenario = {
  name: NAME,
  title: '`git add` of a checkpoint (tensor by tensor) against the generic path of a random file',
  issue: 4,
  about: [
    'In one run and one sandbox (mlvc set up as in `git-add`, tracking `*.safetensors` and',
    '`*.bin`), `git add` of the synthetic safetensors checkpoint (`ckpt-growth`) and of a random',
    'file of the same size, which takes the generic path (content-defined chunks only), each in a',
    'fresh repository per run with its input in the page cache; the runs of the subjects',
    'alternate, so each pair sees the same machine. The ratio rows divide the time per byte of the',
    'checkpoint by that of the random file in each pair (median of the pairs): the issue asks that',
    'adding a checkpoint be no slower. Also timed, without a target: adding a second version (the',
    '`update` of `ckpt-growth` over v1, committed first; the store in the page cache), which looks',
    'for an exact delta for every tensor. Each run checks that Git stored a stub (for the',
    'checkpoint, with a line for each of its 201 tensors).',
  ].join('\n'),
  async run(ctx) {
    const { cases, bytes } = await inputsOf(ctx)
    ctx.log(`${NAME}: checkpoint and random file of ${formatSize(ctx.options.size)}`)
    const sb = await openSandbox(ctx, 'mlvc')
    try {
      const specs: SeriesSpec[] = cases.map((c) => ({
        label: c.label,
        setup: () => addTrial(ctx, sb, c),
      }))
      const series = await measureInterleaved(ctx, specs)
      const rows = cases.flatMap((c, i) =>
        timingRows({ scenario: NAME, subject: c.label }, series[i] as Series, bytes[i] as number),
      )
      const [generic, first, second] = series as [Series, Series, Series]
      const [genericBytes, ckptBytes] = bytes as [number, number]
      rows.push(
        ratioRow(
          'checkpoint / random file, time per byte',
          perBytePairs(first, ckptBytes, generic, genericBytes),
          NO_SLOWER,
        ),
        ratioRow(
          'second version / random file, time per byte',
          perBytePairs(second, ckptBytes, generic, genericBytes),
        ),
      )
      return rows
    } finally {
      await removeTree(sb.home)
    }
  },
}
