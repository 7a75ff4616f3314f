import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { manyTensorsFile } from '../data/many-tensors.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { CKPT, commitCheckpoint, initCkptRepo, STUB_SIGNATURE } from '../git/ckpt.ts'
import { filesUnder } from '../git/content.ts'
import { addCommand } from '../git/repos.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureSeries, type Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { row } from '../rows.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'ckpt-tensors'
const ADD_TENSORS = 200_000
const INSPECT_TENSORS = 20_000
const ADD = `git add (mlvc), checkpoint of ${ADD_TENSORS.toLocaleString('en-US')} tensors`

const target = (op: Target['op'], threshold: number, text: string): Target => ({
  on: 'value',
  op,
  threshold,
  text,
  source: 'issue 10',
})
const ADD_TIME = target('<', 5, '< 5 s')
const ADD_RSS = target('<', 300, '< 300 MiB')
const STUB_SIZE = target('<=', 1024 * 1024, '≤ 1 MiB')
const INSPECT_TIME = target('<', 1, '< 1 s')

/**
 * A fresh repository with the checkpoint in its work tree; times `git add`, then checks that Git
 * holds a stub that names the tensor table in the store (not a line per tensor) and records its
 * size.
 */
async function addTrial(ctx: BenchContext, sb: Sandbox, file: string, sizes: number[]) {
  const dir = await ctx.work.tempDir('tensors-add')
  await initCkptRepo(sb, dir)
  const placed = join(dir, CKPT)
  await placeFile(file, placed, 'link')
  const trial: Trial = {
    command: addCommand(sb, dir, [CKPT]),
    warm: [placed],
    check: async () => {
      const stub = await exec(sb.git(dir, ['cat-file', 'blob', `:${CKPT}`]))
      if (!stub.startsWith(STUB_SIGNATURE) || !stub.includes(`\ntensors: ${ADD_TENSORS} (`))
        throw new Error(`${ADD}: Git holds no checkpoint stub for ${CKPT}`)
      if (!/\ntable: bagaaiera\w+\n/.test(stub))
        throw new Error(`${ADD}: the stub names no tensor table`)
      // Its size from Git: the harness keeps at most 1 MiB of a command's output.
      sizes.push(Number((await exec(sb.git(dir, ['cat-file', '-s', `:${CKPT}`]))).trim()))
    },
    cleanup: () => removeTree(dir),
  }
  return trial
}

async function addRows(ctx: BenchContext, sb: Sandbox): Promise<ResultRow[]> {
  const file = await manyTensorsFile(ctx.work.data, ADD_TENSORS)
  const sizes: number[] = []
  const series = await measureSeries(ctx, {
    label: ADD,
    setup: () => addTrial(ctx, sb, file, sizes),
  })
  const who = { scenario: NAME, subject: ADD }
  const rows = [row(who, 'time', 's', series.seconds, { target: ADD_TIME })]
  if (series.peakRssMiB.length > 0)
    rows.push(row(who, 'peak RSS', 'MiB', series.peakRssMiB, { target: ADD_RSS }))
  // Every run's stub, the warm-ups' included: they are all the same.
  rows.push(row(who, 'stub size', 'B', sizes.slice(-series.seconds.length), { target: STUB_SIZE }))
  return rows
}

interface InspectCase {
  subject: string
  /** What `mlvc inspect` is given. */
  target: string
}

/** A repository with the checkpoint committed, and a copy of it that is not stored. */
async function inspectRepo(ctx: BenchContext, sb: Sandbox, file: string): Promise<string> {
  const dir = await ctx.work.tempDir('tensors-inspect')
  await initCkptRepo(sb, dir)
  await commitCheckpoint(sb, dir, file, 'copy')
  await placeFile(file, join(dir, 'loose.bin'), 'copy')
  return dir
}

async function inspectRows(ctx: BenchContext, sb: Sandbox): Promise<ResultRow[]> {
  const file = await manyTensorsFile(ctx.work.data, INSPECT_TENSORS)
  const dir = await inspectRepo(ctx, sb, file)
  const count = INSPECT_TENSORS.toLocaleString('en-US')
  const cases: InspectCase[] = [
    { subject: `mlvc inspect, committed checkpoint of ${count} tensors`, target: CKPT },
    { subject: `mlvc inspect HEAD:PATH, ${count} tensors`, target: `HEAD:${CKPT}` },
    {
      subject: `mlvc inspect, a file not stored (statistics from the data), ${count} tensors`,
      target: 'loose.bin',
    },
  ]
  const rows: ResultRow[] = []
  try {
    for (const c of cases) {
      const series = await measureSeries(ctx, {
        label: c.subject,
        warm: [file, ...(await storeFiles(dir))],
        setup: async () => ({
          command: sb.mlvc(dir, ['inspect', c.target]),
          check: (stdout) => {
            if (!stdout.startsWith(`${c.target}: safetensors, ${INSPECT_TENSORS} tensors,`))
              throw new Error(`${c.subject}: unexpected output: ${stdout.slice(0, 200)}`)
          },
        }),
      })
      const who = { scenario: NAME, subject: c.subject }
      rows.push(row(who, 'time', 's', series.seconds, { target: INSPECT_TIME }))
    }
    return rows
  } finally {
    await removeTree(dir)
  }
}

const storeFiles = (dir: string) => filesUnder(join(dir, '.git', 'mlvc'))

export const ckptTensors: Scenario = {
  name: NAME,
  title: '`git add` and `mlvc inspect` of checkpoints with very many tensors',
  issue: 10,
  about: [
    `A safetensors checkpoint of ${ADD_TENSORS.toLocaleString('en-US')} tiny F32 tensors (0 to 3`,
    'elements each; every 100th empty; about 18 MB, most of it header): each run adds it with',
    '`git add` in a fresh repository (as `ckpt-add`) and checks that Git holds a stub that names',
    'the tensor table in the store instead of listing every tensor; the stub size row is the size',
    `of that stub. Then one of ${INSPECT_TENSORS.toLocaleString('en-US')} such tensors, committed`,
    'in a repository whose store is in the page cache: `mlvc inspect` of the work-tree file (its',
    'table read from the store), of `HEAD:PATH` (the stub read from Git, the table from the',
    'store), and of a copy that is not stored (statistics computed from the data). Each check',
    'reads the count of tensors from the first line of the output.',
  ].join('\n'),
  async run(ctx) {
    const sb = await openSandbox(ctx, 'mlvc')
    try {
      return [...(await addRows(ctx, sb)), ...(await inspectRows(ctx, sb))]
    } finally {
      await removeTree(sb.home)
    }
  },
}
