import { join } from 'node:path'
import { pushAll } from '../../src/core/index.ts'
import { readLayout } from '../../src/formats/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { LORA_RANK, loraPair } from '../data/lora.ts'
import type { WeightDtype } from '../data/weights.ts'
import { placeFile, removeTree, treeSize } from '../fsutil.ts'
import { CKPT, checkCheckpointStub, commitCheckpoint, initCkptRepo } from '../git/ckpt.ts'
import { checkContent, type Expected, expectedOf, warmFiles } from '../git/content.ts'
import { addCommand, subjectOf } from '../git/repos.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureInterleaved, perBytePairs, type Series, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { row, timingRows } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { addTrial, storeFiles } from './ckpt-trials.ts'

const NAME = 'ckpt-lowrank'
const ADD = subjectOf('git add', 'mlvc')
const GROWTH: Target = {
  on: 'value',
  op: '<=',
  threshold: 0.05,
  text: '≤ 0.05× the file',
  source: 'issue 12',
}
const TIME: Target = {
  on: 'value',
  op: '<=',
  threshold: 3,
  text: '≤ 3× adding it as new',
  source: 'issue 12',
}

interface Input {
  dtype: WeightDtype
  base: string
  merged: string
  tensors: number
  expected: Expected
}

/**
 * A fresh repository with the base committed; times `git add` of the merged fine-tune, then
 * checks the stub, records how much the store grew and, once, that a checkout of the committed
 * fine-tune gives its bytes back.
 */
async function fineTuneTrial(
  ctx: BenchContext,
  sb: Sandbox,
  input: Input,
  seen: { growth: number[]; checked: boolean },
): Promise<Trial> {
  const label = `${ADD}, ${input.dtype} LoRA fine-tune over its base`
  const dir = await ctx.work.tempDir('lowrank-mlvc')
  await initCkptRepo(sb, dir)
  await commitCheckpoint(sb, dir, input.base)
  warmFiles(await storeFiles(dir))
  const store = join(dir, '.git', 'mlvc')
  const before = await treeSize(store)
  const placed = join(dir, CKPT)
  await placeFile(input.merged, placed, 'link')
  const cleanup = async () => {
    try {
      await checkCheckpointStub(sb, dir, { rev: ':', tensors: input.tensors, what: label })
      seen.growth.push((await treeSize(store)) - before)
      if (!seen.checked) {
        await exec(sb.git(dir, ['commit', '-q', '-m', 'fine-tune']))
        await removeTree(placed)
        await exec(sb.git(dir, ['checkout', '--', CKPT]))
        await checkContent(placed, input.expected, label)
        seen.checked = true
      }
    } finally {
      await removeTree(dir)
    }
  }
  return { command: addCommand(sb, dir, [CKPT]), warm: [placed], cleanup }
}

async function dtypeRows(ctx: BenchContext, sb: Sandbox, dtype: WeightDtype): Promise<ResultRow[]> {
  const size = ctx.options.size
  const { base, merged } = await loraPair(ctx.work.data, size, dtype)
  const layout = await readLayout(merged)
  const input: Input = {
    dtype,
    base,
    merged,
    tensors: layout.tensors.length,
    expected: expectedOf(merged, layout.size),
  }
  const seen = { growth: [] as number[], checked: false }
  const asNew = `${ADD}, ${dtype} base as new`
  const fineTune = `${ADD}, ${dtype} LoRA fine-tune over its base`
  const series = await measureInterleaved(ctx, [
    {
      label: asNew,
      setup: () =>
        addTrial(ctx, sb, { label: asNew, file: base, name: CKPT, tensors: input.tensors }),
    },
    { label: fineTune, setup: () => fineTuneTrial(ctx, sb, input, seen) },
  ])
  const [first, second] = series as [Series, Series]
  const who = (subject: string) => ({ scenario: NAME, subject })
  const rows: ResultRow[] = []
  pushAll(rows, timingRows(who(asNew), first, layout.size))
  pushAll(rows, timingRows(who(fineTune), second, layout.size))
  rows.push(
    row(
      who(fineTune),
      'store growth / file size',
      'x',
      seen.growth.map((g) => g / layout.size),
      {
        target: GROWTH,
        note: `rank-${LORA_RANK} adapter merged into all ${layout.tensors.length} matrices; read back byte for byte: ${seen.checked ? 'yes' : 'not checked'}`,
      },
    ),
    row(who(fineTune), 'time / adding the base as new', 'x', perBytePairs(second, 1, first, 1), {
      target: TIME,
    }),
  )
  return rows
}

export const ckptLowrank: Scenario = {
  name: NAME,
  title: 'a merged LoRA fine-tune of a checkpoint stored as exact low-rank deltas',
  issue: 12,
  about: [
    'Weights checkpoints like those of `compress` (SIZE, normal with std 0.02) but of 4096 × 4096',
    "matrices (a 7B model's attention projections, which LoRA adapts), in F32 and BF16, and their",
    `fine-tunes with a rank-${LORA_RANK} LoRA adapter merged into every matrix (\`data/lora.ts\`: W + 2·B·A,`,
    'A normal with std 1/√4096, B normal with std 0.002, summed in f64 and rounded once to the dtype). In one sandbox, runs alternating: `git add` of the base',
    'into a fresh repository, and `git add` of the fine-tune into a fresh repository where the',
    'base is committed (its store in the page cache). "store growth" is the apparent size of',
    '`.git/mlvc` after the add minus before, over the file size (target ≤ 5%); the time ratio is',
    'taken pair by pair (target ≤ 3×). The first fine-tune run is also committed, removed and',
    'checked out, and its bytes compared with the input (sha256).',
  ].join('\n'),
  async run(ctx) {
    ctx.log(
      `${NAME}: weights of ${formatSize(ctx.options.size)} in F32 and BF16 and their LoRA fine-tunes`,
    )
    const sb = await openSandbox(ctx, 'mlvc')
    try {
      const rows: ResultRow[] = []
      for (const dtype of ['F32', 'BF16'] as const) pushAll(rows, await dtypeRows(ctx, sb, dtype))
      return rows
    } finally {
      await removeTree(sb.home)
    }
  },
}
