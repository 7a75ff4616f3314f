import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { changedRegion, writeChangedCopy } from '../data/changed.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import {
  addAndCommit,
  addRemotes,
  initRepo,
  pushCommand,
  type Remotes,
  remoteSize,
  subjectOf,
} from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { exec } from '../proc.ts'
import { addRatios, row } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'git-remote-growth'
const FILE = 'data.bin'
const COMMAND = 'git push'
const PEERS: readonly GitPeer[] = ['git-lfs']
const CHANGED = 0.01
const GROWTH = 'remote growth: v2 (1% changed in one place)'
const SPEC: PerToolSpec = {
  scenario: NAME,
  peers: PEERS,
  command: COMMAND,
  metric: GROWTH,
  unit: 'B',
}

function growthTarget(size: number): Target {
  return {
    on: 'value',
    op: '<',
    threshold: 0.03 * size,
    text: '< 3% of the file',
    source: 'issue 3',
  }
}

function share(bytes: number, size: number): string {
  return `${bytes.toLocaleString('en-US')} B, ${((100 * bytes) / size).toFixed(2)}% of the file`
}

/** A work tree and its remotes. */
interface Repo {
  src: string
  remotes: Remotes
}

/** Commits `version` as data.bin, pushes it, and returns the remote side's size. */
async function pushVersion(sb: Sandbox, repo: Repo, version: string): Promise<number> {
  await placeFile(version, join(repo.src, FILE), 'link')
  await addAndCommit(sb, repo.src, [FILE])
  await exec(pushCommand(sb, repo.src))
  return remoteSize(repo.remotes)
}

async function growthRows(
  ctx: BenchContext,
  sb: Sandbox,
  input: { v1: string; size: number },
): Promise<ResultRow[]> {
  const { v1, size } = input
  const who = { scenario: NAME, subject: subjectOf(COMMAND, sb.tool) }
  const base = await ctx.work.tempDir(`growth-${sb.tool}`)
  try {
    ctx.log(`${NAME}: ${who.subject}, two versions`)
    const src = join(base, 'src')
    await initRepo(sb, src)
    const repo = { src, remotes: await addRemotes(sb, src, base) }
    const empty = await remoteSize(repo.remotes)
    const afterV1 = await pushVersion(sb, repo, v1)
    const v2 = join(base, 'v2.bin')
    writeChangedCopy(v1, v2, changedRegion(size, CHANGED))
    const growth = (await pushVersion(sb, repo, v2)) - afterV1
    const target = sb.tool === 'mlvc' ? { target: growthTarget(size) } : {}
    return [
      row(who, 'remote after v1', 'B', [afterV1 - empty], { note: share(afterV1 - empty, size) }),
      row(who, GROWTH, 'B', [growth], { ...target, note: share(growth, size) }),
    ]
  } finally {
    await removeTree(base)
  }
}

export const gitRemoteGrowth: Scenario = {
  name: NAME,
  title: 'how much a remote grows when a second version of a large file is pushed',
  issue: 3,
  about: [
    'A repository (set up as in `git-clone`) commits the random file and runs `git push origin',
    'main`, then commits a second version with 1% of its bytes changed in one place (every byte',
    'of one contiguous run, starting at 37% of the file, inverted) and pushes again. Growth is the',
    'change in the apparent size (like `du -sb`) of everything the remote side holds: the bare',
    'repository, and for mlvc also its folder remote. One pass: sizes do not vary between runs.',
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    ctx.log(`${NAME}: input ${formatSize(size)} of random bytes and a copy with 1% changed`)
    const v1 = await randomFile(ctx.work.data, size)
    const rows = await rowsPerTool(ctx, SPEC, (sb) => growthRows(ctx, sb, { v1, size }))
    return addRatios(rows, subjectOf(COMMAND, 'mlvc'))
  },
}
