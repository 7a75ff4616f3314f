import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { checkContent, expectedOf, filesUnder, warmFiles } from '../git/content.ts'
import { smallFileCount, type WrittenFile, writeSmallFiles } from '../git/files.ts'
import {
  addAndCommit,
  addRemotes,
  initRepo,
  pushCommand,
  type Remotes,
  subjectOf,
} from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type GitPeer, type PerToolSpec, rowsPerTool } from '../git/tools.ts'
import { measureSeries } from '../measure.ts'
import { exec } from '../proc.ts'
import { addRatios, timingRows } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'git-clone'
const COMMAND = 'git clone'
const PEERS: readonly GitPeer[] = ['git-lfs']

// "At least 2× faster than git-lfs with a file-URL remote (about 11 s here)" restates an absolute
// time for 1 GiB, 11 / 2 = 5.5 s, judged as a throughput; the ratio to git-lfs in this run is
// reported. For the 1,000 files of 1 MiB the issue gives no time, only the ratio: that is judged
// against git-lfs measured in the same run.
const GIB = 2 ** 30
const ONE_FILE_SECONDS_PER_GIB = 11 / 2
export const ONE_FILE_TARGET: Target = {
  on: 'value',
  op: '>=',
  threshold: Math.round(GIB / 1e6 / ONE_FILE_SECONDS_PER_GIB),
  text: `≥ ${Math.round(GIB / 1e6 / ONE_FILE_SECONDS_PER_GIB)} MB/s (1 GiB in ${ONE_FILE_SECONDS_PER_GIB} s)`,
  source: 'issue 3',
}
const FILES_TARGET: Target = {
  on: 'ratio',
  op: '>=',
  threshold: 2,
  text: 'mlvc ≥ 2× faster',
  source: 'issue 3',
}

/** One case: the files a source repository commits and pushes, and how to check a clone. */
interface CloneCase {
  detail: string
  bytes: number
  /** Puts the files into the source work tree; returns them with their expected content. */
  write(dir: string): Promise<WrittenFile[]>
}

/** The source repository with its files pushed to a bare repository (and mlvc's folder remote). */
async function pushedSource(
  sb: Sandbox,
  base: string,
  c: CloneCase,
): Promise<{ remotes: Remotes; files: WrittenFile[] }> {
  const src = join(base, 'src')
  await initRepo(sb, src)
  const remotes = await addRemotes(sb, src, base)
  const files = await c.write(src)
  await addAndCommit(
    sb,
    src,
    files.map((f) => f.name),
  )
  await exec(pushCommand(sb, src))
  return { remotes, files }
}

/** What a clone reads: the bare repository and mlvc's folder remote (git-lfs's is inside it). */
async function remoteFiles(remotes: Remotes): Promise<string[]> {
  const stores = remotes.store ? [remotes.bare, remotes.store] : [remotes.bare]
  return (await Promise.all(stores.map(filesUnder))).flat()
}

async function cloneRows(ctx: BenchContext, sb: Sandbox, c: CloneCase): Promise<ResultRow[]> {
  const subject = subjectOf(COMMAND, sb.tool, c.detail)
  const base = await ctx.work.tempDir(`origin-${sb.tool}`)
  try {
    ctx.log(`${subject}: pushing the source`)
    const { remotes, files } = await pushedSource(sb, base, c)
    const warm = await remoteFiles(remotes)
    const series = await measureSeries(ctx, {
      label: subject,
      setup: async () => {
        warmFiles(warm)
        const parent = await ctx.work.tempDir(`clone-${sb.tool}`)
        const work = join(parent, 'work')
        const cleanup = async () => {
          try {
            for (const f of files) await checkContent(join(work, f.name), f, subject)
            const status = await exec(sb.git(work, ['status', '--porcelain']))
            if (status.trim() !== '')
              throw new Error(`git status after the clone: ${status.trim()}`)
          } finally {
            await removeTree(parent)
          }
        }
        return { command: sb.git(parent, ['clone', '-q', remotes.url, 'work']), cleanup }
      },
    })
    return timingRows({ scenario: NAME, subject }, series, c.bytes)
  } finally {
    await removeTree(base)
  }
}

function oneFileCase(file: string, size: number): CloneCase {
  return {
    detail: `1 file of ${formatSize(size)}`,
    bytes: size,
    async write(dir) {
      await placeFile(file, join(dir, 'data.bin'), 'link')
      return [{ name: 'data.bin', ...expectedOf(file, size) }]
    },
  }
}

function smallFilesCase(file: string, count: number): CloneCase {
  return {
    detail: `${count} files of 1 MiB`,
    bytes: count * 2 ** 20,
    write: async (dir) => writeSmallFiles(file, dir, count),
  }
}

async function caseRows(
  ctx: BenchContext,
  c: CloneCase,
  target: { mlvc?: Target; peer?: Target },
): Promise<ResultRow[]> {
  const spec: PerToolSpec = {
    scenario: NAME,
    peers: PEERS,
    command: COMMAND,
    detail: c.detail,
    metric: 'time',
    unit: 's',
  }
  const rows = await rowsPerTool(ctx, spec, (sb) => cloneRows(ctx, sb, c))
  const mlvc = subjectOf(COMMAND, 'mlvc', c.detail)
  return addRatios(rows, mlvc).map((r) => {
    if (r.subject === mlvc && r.metric === 'throughput' && target.mlvc)
      return { ...r, target: target.mlvc }
    if (r.subject !== mlvc && r.metric === 'time' && target.peer)
      return { ...r, target: target.peer }
    return r
  })
}

export const gitClone: Scenario = {
  name: NAME,
  title: '`git clone` that materializes large files from a folder remote, against git-lfs',
  issue: 3,
  about: [
    'A source repository (set up as in `git-add`) commits the files and runs `git push origin',
    'main` to a bare repository reached by a `file://` URL; the tools’ pre-push hooks upload the',
    'content: mlvc to a folder remote added with `mlvc remote add origin FOLDER` and committed in',
    '`.mlvc/config.yaml`, git-lfs through its standalone file transfer into the bare repository.',
    'Timed: `git clone URL` into a fresh folder, in a HOME where the tool is installed (`mlvc',
    'install`, `git lfs install`), with the remotes in the page cache; every run then checks each',
    'file’s sha256 and that `git status` lists nothing. Two cases: the random file, and 1,000',
    'files of 1 MiB (different slices of it; fewer when --size is under 1,000 MiB).',
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    const file = await randomFile(ctx.work.data, size)
    ctx.log(`${NAME}: one file of ${formatSize(size)}, then ${smallFileCount(size)} of 1 MiB`)
    return [
      ...(await caseRows(ctx, oneFileCase(file, size), { mlvc: ONE_FILE_TARGET })),
      ...(await caseRows(ctx, smallFilesCase(file, smallFileCount(size)), { peer: FILES_TARGET })),
    ]
  },
}
