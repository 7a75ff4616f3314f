import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { type CheckpointPlan, checkpointFile, planCheckpoint } from '../data/safetensors.ts'
import { removeTree } from '../fsutil.ts'
import {
  CKPT,
  checkCheckpointStub,
  commitCheckpoint,
  initCkptRepo,
  mlvcHas,
  STUB_SIGNATURE,
} from '../git/ckpt.ts'
import { type ExpectedChange, expectedUpdateChanges } from '../git/diff-check.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureSeries, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { row, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { checkDiffOutput, diffCommand } from './ckpt-trials.ts'

const NAME = 'ckpt-diff'
const SUBJECT = 'mlvc diff --no-data HEAD~1 HEAD, stubs only'
const UNDER_A_SECOND: Target = {
  on: 'value',
  op: '<',
  threshold: 1,
  text: '< 1 s',
  source: 'issue 4',
}
export const NO_DIFF_NOTE =
  'not available: this build of mlvc has no `diff` command (issue 4; `mlvc --help` does not list it)'

/** A repository with v1 and the update (every tensor changed) committed, nothing pushed. */
async function sourceRepo(sb: Sandbox, dir: string, plan: CheckpointPlan, files: string[]) {
  await initCkptRepo(sb, dir)
  for (const file of files) {
    await commitCheckpoint(sb, dir, file)
    await checkCheckpointStub(sb, dir, {
      rev: 'HEAD:',
      tensors: plan.tensors.length,
      what: SUBJECT,
    })
  }
}

/**
 * A fresh clone that has the stubs and no data: mlvc is installed in the clone's sandbox, but the
 * source has no mlvc remote, so the checkout leaves the stub in the work tree.
 */
async function cloneTrial(
  ctx: BenchContext,
  sb: Sandbox,
  src: string,
  expected: readonly ExpectedChange[],
): Promise<Trial> {
  const parent = await ctx.work.tempDir('diff-clone')
  await exec(sb.git(parent, ['clone', '-q', src, 'work']))
  const work = join(parent, 'work')
  const head = (await readFile(join(work, CKPT))).subarray(0, STUB_SIGNATURE.length).toString()
  if (head !== STUB_SIGNATURE) throw new Error(`${SUBJECT}: the clone has data, not a stub`)
  return {
    command: diffCommand(sb, work, true),
    check: (stdout) => checkDiffOutput(stdout, expected, { data: false, what: SUBJECT }),
    cleanup: () => removeTree(parent),
  }
}

async function diffRows(ctx: BenchContext, src: Sandbox, clone: Sandbox): Promise<ResultRow[]> {
  const who = { scenario: NAME, subject: SUBJECT }
  const base = await ctx.work.tempDir('diff')
  try {
    if (!(await mlvcHas(clone, base, 'diff'))) {
      return [{ ...unavailable(who, 'time', 's', NO_DIFF_NOTE), target: UNDER_A_SECOND }]
    }
    const size = ctx.options.size
    const plan = planCheckpoint(size)
    const files = [
      await checkpointFile(ctx.work.data, size, 'v1'),
      await checkpointFile(ctx.work.data, size, 'update'),
    ]
    const dir = join(base, 'src')
    await sourceRepo(src, dir, plan, files)
    // A first clone, untimed, where `mlvc install` sets up the clone sandbox's user.
    await exec(clone.git(base, ['clone', '-q', dir, 'first']))
    await exec(clone.mlvc(join(base, 'first'), ['install']))
    const expected = expectedUpdateChanges(plan)
    const series = await measureSeries(ctx, {
      label: SUBJECT,
      setup: () => cloneTrial(ctx, clone, dir, expected),
    })
    const note = `${formatSize(plan.size)} checkpoint, ${plan.tensors.length} tensors, all changed`
    const rows = [row(who, 'time', 's', series.seconds, { target: UNDER_A_SECOND, note })]
    if (series.peakRssMiB.length > 0) rows.push(row(who, 'peak RSS', 'MiB', series.peakRssMiB))
    return rows
  } finally {
    await removeTree(base)
  }
}

export const ckptDiff: Scenario = {
  name: NAME,
  title: '`mlvc diff` of two committed checkpoint versions from their stubs, without the data',
  issue: 4,
  about: [
    'A repository commits the synthetic checkpoint (`ckpt-growth`) and then its `update` (a',
    'fine-tune plus 0.1% of the elements of every tensor changed: all 201 tensors differ); it has',
    'no mlvc remote. Each run clones it (`git clone`, in a sandbox where `mlvc install` was run)',
    'into a fresh folder, which gets the stubs and no data, and times `mlvc --json diff --no-data',
    'HEAD~1 HEAD` there; the output must report every tensor as changed. Nothing can be read from',
    'a store: the clone has none and there is no remote. Reported as not available when the built',
    'CLI has no `diff` command.',
  ].join('\n'),
  async run(ctx) {
    const src = await openSandbox(ctx, 'mlvc')
    const clone = await openSandbox(ctx, 'mlvc')
    try {
      return await diffRows(ctx, src, clone)
    } finally {
      await removeTree(src.home)
      await removeTree(clone.home)
    }
  },
}
