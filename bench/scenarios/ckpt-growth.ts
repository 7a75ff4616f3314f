import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import {
  type CheckpointPlan,
  type CheckpointVersion,
  checkpointFile,
  finetunedBytes,
  planCheckpoint,
} from '../data/safetensors.ts'
import { removeTree, treeSize } from '../fsutil.ts'
import { CKPT, checkCheckpointStub, commitCheckpoint, initCkptRepo } from '../git/ckpt.ts'
import { checkContent, type Expected, expectedOf } from '../git/content.ts'
import {
  addRemotes,
  indexedSize,
  publish,
  type Remotes,
  remoteSize,
  subjectOf,
} from '../git/repos.ts'
import type { GitTool, Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { exec } from '../proc.ts'
import { addRatios, row } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'
import { POINTER_LIMIT } from './git-add.ts'

const NAME = 'ckpt-growth'
const PEERS: readonly GitPeer[] = ['git-lfs', 'git-annex']
const UPDATE_METRIC = 'remote growth: update (0.1% of the elements of every tensor)'
const SPEC: PerToolSpec = {
  scenario: NAME,
  peers: PEERS,
  command: 'git push',
  metric: UPDATE_METRIC,
  unit: 'B',
}
/** git-annex has no pre-push hook: it publishes with `git annex sync --content origin`. */
const ANNEX_SUBJECT = 'git annex sync --content'

function subject(tool: GitTool): string {
  return tool === 'git-annex' ? ANNEX_SUBJECT : subjectOf('git push', tool)
}

function growthTarget(share: number, size: number): Target {
  return {
    on: 'value',
    op: '<=',
    threshold: share * size,
    text: `≤ ${(100 * share).toFixed(1)}% of the checkpoint`,
    source: 'issue 4',
  }
}

function shareNote(bytes: number, size: number): string {
  return `${bytes.toLocaleString('en-US')} B, ${((100 * bytes) / size).toFixed(2)}% of the checkpoint`
}

interface Version {
  label: string
  file: string
  expected: Expected
  metric: string
  /** mlvc's bound on the growth this version causes. */
  target: Target | undefined
}

interface Input {
  plan: CheckpointPlan
  versions: Version[]
}

/** Throws unless Git stored the tool's stub or pointer, not the checkpoint. */
async function checkStored(sb: Sandbox, dir: string, input: Input, label: string): Promise<void> {
  const what = `${subject(sb.tool)}, ${label}`
  if (sb.tool === 'mlvc') {
    await checkCheckpointStub(sb, dir, { rev: 'HEAD:', tensors: input.plan.tensors.length, what })
  } else if ((await indexedSize(sb, dir, CKPT)) > POINTER_LIMIT) {
    throw new Error(`${what}: Git stored the checkpoint, not a pointer`)
  }
}

/**
 * A clone from the remotes must give back every pushed version byte for byte (the newest is a
 * chain of deltas on a remote that never saw the files): main, main~1, main~2.
 */
async function checkClone(sb: Sandbox, remotes: Remotes, base: string, input: Input) {
  await exec(sb.git(base, ['clone', '-q', remotes.url, 'clone']))
  const clone = join(base, 'clone')
  const newestFirst = [...input.versions].reverse()
  for (const [back, v] of newestFirst.entries()) {
    const what = `clone from the remote, main~${back} (${v.label})`
    await exec(sb.git(clone, ['checkout', '-q', `main~${back}`]))
    await checkContent(join(clone, CKPT), v.expected, what)
    const status = await exec(sb.git(clone, ['status', '--porcelain']))
    if (status.trim() !== '') throw new Error(`${what}: git status lists ${status.trim()}`)
  }
}

/** The remote side's size, and that of its bare repository (for mlvc, the stubs and commits). */
async function sizesOf(remotes: Remotes): Promise<{ total: number; bare: number }> {
  return { total: await remoteSize(remotes), bare: await treeSize(remotes.bare) }
}

/** Pushes the versions one after the other; rows for the remote's size after each. */
async function growthRows(ctx: BenchContext, sb: Sandbox, input: Input): Promise<ResultRow[]> {
  const who = { scenario: NAME, subject: subject(sb.tool) }
  const size = input.plan.size
  const base = await ctx.work.tempDir(`growth-${sb.tool}`)
  try {
    const src = join(base, 'src')
    await initCkptRepo(sb, src)
    const remotes = await addRemotes(sb, src, base)
    // The set-up commit first: git-annex learns the remote's uuid on its first sync and copies
    // no content in that one.
    await publish(sb, src)
    let before = await sizesOf(remotes)
    const rows: ResultRow[] = []
    for (const v of input.versions) {
      ctx.log(`${NAME}: ${who.subject}, ${v.label}`)
      await commitCheckpoint(sb, src, v.file, sb.tool === 'git-annex' ? 'copy' : 'link')
      await checkStored(sb, src, input, v.label)
      await publish(sb, src)
      const after = await sizesOf(remotes)
      const growth = after.total - before.total
      const target = sb.tool === 'mlvc' && v.target ? { target: v.target } : {}
      const git = remotes.store
        ? `; ${(after.bare - before.bare).toLocaleString('en-US')} B of it in the Git repository`
        : ''
      rows.push(
        row(who, v.metric, 'B', [growth], { ...target, note: shareNote(growth, size) + git }),
      )
      before = after
    }
    if (sb.tool === 'mlvc') {
      ctx.log(`${NAME}: checking a clone of every version`)
      await checkClone(sb, remotes, base, input)
    }
    return rows
  } finally {
    await removeTree(base)
  }
}

async function inputOf(ctx: BenchContext): Promise<Input> {
  const size = ctx.options.size
  const plan = planCheckpoint(size)
  const share = ((100 * finetunedBytes(plan)) / plan.size).toFixed(2)
  const fineTune = `${plan.finetuned.length} of ${plan.tensors.length} tensors rewritten, ${share}% of the bytes`
  const specs: Array<Omit<Version, 'file' | 'expected'> & { version: CheckpointVersion }> = [
    { label: 'v1', version: 'v1', metric: 'remote after v1', target: undefined },
    {
      label: 'fine-tune',
      version: 'finetune',
      metric: `remote growth: fine-tune (${fineTune})`,
      target: growthTarget(0.015, plan.size),
    },
    {
      label: 'update',
      version: 'update',
      metric: UPDATE_METRIC,
      target: growthTarget(0.02, plan.size),
    },
  ]
  const versions: Version[] = []
  for (const { version, ...spec } of specs) {
    const file = await checkpointFile(ctx.work.data, size, version)
    versions.push({ ...spec, file, expected: expectedOf(file, plan.size) })
  }
  return { plan, versions }
}

export const ckptGrowth: Scenario = {
  name: NAME,
  title: 'how much a remote grows when a fine-tune and a small update of a checkpoint are pushed',
  issue: 4,
  about: [
    'A synthetic safetensors checkpoint of the chosen size (201 F32 tensors: 25 layers of',
    'attention, MLP and norms, plus an embedding that fills it up) is committed as',
    '`model.safetensors` and pushed to a bare repository by `file://` URL: `git push origin main`',
    'for mlvc (its pre-push hook uploads to a folder remote committed in `.mlvc/config.yaml`) and',
    'git-lfs (into the bare repository), `git annex sync --content origin` for git-annex (main, its',
    '`git-annex` branch and the content). Then, in the same work tree, a fine-tune that rewrites 1%',
    'of the tensors entirely (2 of 201 attention matrices, of the average tensor size: about 1% of',
    'the bytes), pushed; then an update of that fine-tune that changes 0.1% of the elements of',
    'every tensor (one element at a random place in each of n/1000 equal windows gets a new random',
    'mantissa), pushed. Growth is the change in the apparent size (like `du -sb`) of everything the',
    "remote side holds. Each commit is checked (mlvc's stub lists every tensor; the peers stored a",
    'pointer), and afterwards a clone from the remotes checks out each of the three versions of',
    'mlvc byte for byte with a clean `git status`. One pass: sizes do not vary between runs.',
  ].join('\n'),
  async run(ctx) {
    const input = await inputOf(ctx)
    ctx.log(`${NAME}: checkpoint of ${formatSize(input.plan.size)}, three versions`)
    const rows = await rowsPerTool(ctx, SPEC, (sb) => growthRows(ctx, sb, input))
    const named = rows.map((r) =>
      r.subject === subjectOf('git push', 'git-annex') ? { ...r, subject: ANNEX_SUBJECT } : r,
    )
    return addRatios(named, subject('mlvc'))
  },
}
