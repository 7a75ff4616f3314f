import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { checkAveraged } from '../data/average.ts'
import { type CheckpointPlan, checkpointFile, planCheckpoint } from '../data/safetensors.ts'
import { removeTree } from '../fsutil.ts'
import {
  CKPT,
  CKPT_PATTERN,
  checkCheckpointStub,
  commitCheckpoint,
  initCkptRepo,
  mlvcHas,
} from '../git/ckpt.ts'
import { warmFiles } from '../git/content.ts'
import { commitAll } from '../git/repos.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureInterleaved, type Series, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { row, type Subject, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import { throughput } from '../stats.ts'
import type { ResultRow, Target } from '../types.ts'
import { storeFiles } from './ckpt-trials.ts'

const NAME = 'ckpt-merge'
const MERGE = 'git merge (mlvc, average)'
const READ = 'limit: read base, ours and theirs (readSync 8 MiB)'
const HASH = 'limit: sha256 of base, ours and theirs (node:crypto, 1 thread)'
const COPY = 'limit: copy ours and theirs into new files (readSync/writeSync 8 MiB)'
const ATTRIBUTES = `${CKPT_PATTERN} merge=mlvc mlvc-merge=average\n`
const UNDER_3X: Target = {
  on: 'value',
  op: '<',
  threshold: 3,
  text: '< 3× reading the inputs',
  source: 'issue 5',
}
export const NO_MERGE_NOTE =
  'not available: this build of mlvc has no tensor merge (`mlvc --help` lists no `resolve`)'

interface Input {
  plan: CheckpointPlan
  base: string
  ours: string
  theirs: string
}

async function git(sb: Sandbox, dir: string, ...args: string[]): Promise<void> {
  await exec(sb.git(dir, args))
}

/** Throws unless the merge committed the element-wise average of ours and theirs. */
async function checkMerge(sb: Sandbox, dir: string, input: Input): Promise<void> {
  await git(sb, dir, 'rev-parse', '-q', '--verify', 'HEAD^2')
  const status = await exec(sb.git(dir, ['status', '--porcelain']))
  if (status.trim() !== '') throw new Error(`${MERGE}: git status lists ${status.trim()}`)
  const tensors = input.plan.tensors.length
  await checkCheckpointStub(sb, dir, { rev: 'HEAD:', tensors, what: MERGE })
  const check = checkAveraged(join(dir, CKPT), input.ours, input.theirs)
  if (check.maxUlp > 1) {
    throw new Error(
      `${MERGE}: ${check.inexact} of ${check.elements} elements are not the float32 average of ours and theirs (up to ${check.maxUlp} ulp off)`,
    )
  }
}

/**
 * A fresh repository: v1 on main, `theirs` on a branch from it, `ours` on main after it, with
 * `mlvc-merge=average` in .gitattributes and the store in the page cache. The inputs are copied
 * into the work tree, not linked: the merge rewrites the file there.
 */
async function mergeTrial(ctx: BenchContext, sb: Sandbox, input: Input): Promise<Trial> {
  const dir = await ctx.work.tempDir('merge')
  await initCkptRepo(sb, dir)
  await appendFile(join(dir, '.gitattributes'), ATTRIBUTES)
  await git(sb, dir, 'add', '.gitattributes')
  await commitAll(sb, dir, 'average checkpoints')
  await commitCheckpoint(sb, dir, input.base, 'copy')
  await git(sb, dir, 'checkout', '-q', '-b', 'theirs')
  await commitCheckpoint(sb, dir, input.theirs, 'copy')
  await git(sb, dir, 'checkout', '-q', 'main')
  await commitCheckpoint(sb, dir, input.ours, 'copy')
  warmFiles(await storeFiles(dir))
  return {
    command: sb.git(dir, ['merge', '-q', '--no-edit', 'theirs']),
    check: () => checkMerge(sb, dir, input),
    cleanup: () => removeTree(dir),
  }
}

/** Seconds the probe measured inside its process (without node's start-up), per run. */
function probeSeconds(series: Series): number[] {
  return series.samples.map((s) => (JSON.parse(s.stdout) as { seconds: number }).seconds)
}

function mergeRows(
  merge: Series,
  limits: { read: number[]; hash: number[]; copy: number[] },
  input: Input,
) {
  const who: Subject = { scenario: NAME, subject: MERGE }
  const limitRows = ([subject, seconds, files]: [string, number[], number]) => [
    row(
      { scenario: NAME, subject },
      'throughput',
      'MB/s',
      seconds.map((s) => throughput(files * input.plan.size, s)),
    ),
    row({ scenario: NAME, subject }, 'time', 's', seconds),
  ]
  const per = (seconds: number[]) => merge.seconds.map((s, i) => s / (seconds[i] as number))
  const rows: ResultRow[] = [
    ...limitRows([READ, limits.read, 3]),
    ...limitRows([HASH, limits.hash, 3]),
    ...limitRows([COPY, limits.copy, 2]),
    row(who, 'time', 's', merge.seconds),
    row(who, 'time / read time', 'x', per(limits.read), { target: UNDER_3X }),
    row(who, 'time / sha256 time', 'x', per(limits.hash)),
    row(who, 'time / copy time', 'x', per(limits.copy)),
  ]
  if (merge.peakRssMiB.length > 0) rows.push(row(who, 'peak RSS', 'MiB', merge.peakRssMiB))
  return rows
}

async function inputOf(ctx: BenchContext): Promise<Input> {
  const size = ctx.options.size
  return {
    plan: planCheckpoint(size),
    base: await checkpointFile(ctx.work.data, size, 'v1'),
    ours: await checkpointFile(ctx.work.data, size, 'ours'),
    theirs: await checkpointFile(ctx.work.data, size, 'theirs'),
  }
}

export const ckptMerge: Scenario = {
  name: NAME,
  title: 'merging two fine-tunes of a checkpoint with `average`, against reading the inputs',
  issue: 5,
  about: [
    'A fresh repository per run (mlvc set up as in `git-add`, `.gitattributes` adding',
    '`*.safetensors merge=mlvc mlvc-merge=average`) commits the synthetic checkpoint',
    '(`ckpt-growth`) on main, a version on a branch `theirs` and another on main after it: each',
    'changes every element of every tensor a little (its low 16 mantissa bits), differently, so',
    'every tensor changed on both sides and the strategy decides them all. With the store in the',
    'page cache, timed: `git merge --no-edit theirs`. Each run then checks the merge commit, a',
    'clean `git status`, a stub listing every tensor, and that the work tree holds the float32',
    'average of ours and theirs for every element (within 1 ulp). The reference reads the three',
    'inputs once from the page cache in one process (`readSync`, 8 MiB blocks, timed inside it);',
    'its runs alternate with the merges and the ratio is taken per pair (median). For reading, not',
    'judged: the same with sha256 on one thread (what verifying the inputs once costs). Reported as',
    'not available when the built CLI has no tensor merge. What any merge that keeps the',
    "design's invariants must hash: ours and theirs once (everything read is checked against its",
    'id) and the result twice (its chunk ids and the whole-file sha256 in its stub): 4 GiB at',
    "1 GiB, i.e. 4/3 of the sha256 row's time on one thread, 2/3 of it on this machine's 2 cores",
    '(about 4.7× the read time here) before anything is read, computed or written. And it writes',
    '2 GiB into new files (the result into the store and into the work tree): the copy row, also',
    'not judged, measures that (reading two inputs, writing them into new files) on this machine.',
  ].join('\n'),
  async run(ctx) {
    const sb = await openSandbox(ctx, 'mlvc')
    try {
      if (!(await mlvcHas(sb, ctx.work.run, 'resolve'))) {
        const who = { scenario: NAME, subject: MERGE }
        return [{ ...unavailable(who, 'time / read time', 'x', NO_MERGE_NOTE), target: UNDER_3X }]
      }
      const input = await inputOf(ctx)
      ctx.log(`${NAME}: three versions of a ${formatSize(input.plan.size)} checkpoint`)
      const files = [input.base, input.ours, input.theirs]
      const probe = (label: string, kind: string) => ({
        label,
        warm: files,
        setup: async () => ({
          command: { file: ctx.tools.node, args: [ctx.tools.probe, kind, ...files] },
        }),
      })
      const copy = {
        label: COPY,
        warm: files,
        setup: async () => {
          const dir = await ctx.work.tempDir('copy')
          const args = [ctx.tools.probe, 'copy', input.ours, input.theirs, dir]
          return { command: { file: ctx.tools.node, args }, cleanup: () => removeTree(dir) }
        },
      }
      const [read, hash, copied, merge] = (await measureInterleaved(ctx, [
        probe(READ, 'read'),
        probe(HASH, 'sha256'),
        copy,
        { label: MERGE, setup: () => mergeTrial(ctx, sb, input) },
      ])) as [Series, Series, Series, Series]
      const limits = {
        read: probeSeconds(read),
        hash: probeSeconds(hash),
        copy: probeSeconds(copied),
      }
      return mergeRows(merge, limits, input)
    } finally {
      await removeTree(sb.home)
    }
  },
}
