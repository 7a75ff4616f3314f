import { spawn } from 'node:child_process'
import { readFile, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { pushAll } from '../../src/core/index.ts'
import type { BenchContext, Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { checkContent, expectedOf } from '../git/content.ts'
import { smallFileCount, type WrittenFile, writeSmallFiles } from '../git/files.ts'
import { addAndCommit, addRemotes, initRepo, pushCommand } from '../git/repos.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { measureSeries } from '../measure.ts'
import { type Command, exec } from '../proc.ts'
import { addRatios, row, timingRows, unavailable } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'hub'
const CONCURRENT = 32

const HUB_VS_FOLDER: Target = {
  on: 'ratio',
  op: '>=',
  threshold: 0.7,
  text: 'hub ≥ 70% of folder',
  source: 'issue 15',
}
const HUB_VS_LFS: Target = {
  on: 'ratio',
  op: '>',
  threshold: 1,
  text: 'hub faster than git-lfs',
  source: 'issue 15',
}
const FILES_VS_LFS: Target = {
  on: 'ratio',
  op: '>=',
  threshold: 2,
  text: 'hub ≥ 2× faster',
  source: 'issue 15',
}
const HUB_RSS: Target = {
  on: 'value',
  op: '<',
  threshold: 400,
  text: '< 400 MiB',
  source: 'issue 15',
}

/** A hub started for the scenario, in the mlvc sandbox's environment, with a user that is logged in. */
export interface BenchHub {
  url: string
  pid: number
  data: string
  /** The logged-in user's token (user `bench`). */
  token: string
  newRepo(): Promise<string>
  /** The hub process's peak RSS so far (VmHWM), in MiB. */
  peakRssMiB(): Promise<number>
  stop(): Promise<void>
}

function run(command: Command, input?: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.on('error', fail)
    child.on('close', (code) =>
      code === 0 ? done(out.trim()) : fail(new Error(`${command.args.join(' ')}: ${err}`)),
    )
    child.stdin.end(input)
  })
}

export async function startBenchHub(ctx: BenchContext, sb: Sandbox): Promise<BenchHub> {
  const data = await ctx.work.tempDir('hub-data')
  const admin = (...args: string[]) => run(sb.mlvc(data, ['hub', ...args, '--data', data]))
  await admin('user', 'add', 'bench')
  const token = await admin('token', 'create', 'bench')
  const cmd = sb.mlvc(data, ['hub', 'serve', '--data', data, '--listen', '127.0.0.1:0'])
  const child = spawn(cmd.file, cmd.args, {
    cwd: data,
    env: cmd.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((done, fail) => {
    let log = ''
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString()
      const found = /"msg":"hub listening","url":"([^"]+)"/.exec(log)?.[1]
      if (found) done(found)
      // Only the start line matters: the rest of the log is dropped.
      if (log.length > 1 << 20) log = log.slice(-4096)
    })
    child.on('exit', (code) => fail(new Error(`the hub exited (${code})`)))
  })
  child.stdout.resume()
  await run(sb.mlvc(data, ['login', url, '--user', 'bench', '--token-stdin']), token)
  let repos = 0
  return {
    url,
    pid: child.pid as number,
    data,
    token,
    async newRepo() {
      const name = `r${++repos}`
      await admin('repo', 'create', `bench/${name}`)
      return `${url}/bench/${name}`
    },
    async peakRssMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024
    },
    async stop() {
      child.kill('SIGTERM')
      await new Promise((done) => child.once('exit', done))
    },
  }
}

type Where = 'hub' | 'folder'

/** A source repository with `write`'s files committed, its origin the hub or a folder remote. */
async function source(
  ctx: BenchContext,
  sb: Sandbox,
  where: Where,
  hub: BenchHub | undefined,
  write: (dir: string) => Promise<WrittenFile[]>,
): Promise<{ src: string; url: string; files: WrittenFile[]; base: string }> {
  const base = await ctx.work.tempDir(`src-${sb.tool}-${where}`)
  const src = join(base, 'src')
  await initRepo(sb, src)
  let url: string
  if (where === 'hub' && hub) {
    url = await hub.newRepo()
    await exec(sb.git(src, ['remote', 'add', 'origin', url]))
    await exec(sb.mlvc(src, ['remote', 'add', 'origin', url]))
    await exec(sb.git(src, ['add', '.mlvc']))
    await exec(sb.git(src, ['commit', '-qm', 'remote']))
  } else {
    url = (await addRemotes(sb, src, base)).url
  }
  const files = await write(src)
  await addAndCommit(
    sb,
    src,
    files.map((f) => f.name),
  )
  return { src, url, files, base }
}

function label(command: string, tool: string, where: Where, detail: string): string {
  return `${command} (${tool}, ${where === 'hub' ? 'hub' : 'folder remote'}), ${detail}`
}

async function pushRows(
  ctx: BenchContext,
  sb: Sandbox,
  where: Where,
  hub: BenchHub | undefined,
  file: string,
  size: number,
) {
  const subject = label('git push', sb.tool, where, `1 file of ${formatSize(size)}`)
  let made: Awaited<ReturnType<typeof source>> | undefined
  const series = await measureSeries(ctx, {
    label: subject,
    setup: async () => {
      made = await source(ctx, sb, where, hub, async (dir) => {
        await placeFile(file, join(dir, 'data.bin'), 'link')
        return [{ name: 'data.bin', ...expectedOf(file, size) }]
      })
      const base = made.base
      return { command: pushCommand(sb, made.src), cleanup: () => removeTree(base) }
    },
  })
  return timingRows({ scenario: NAME, subject }, series, size)
}

async function cloneRows(
  ctx: BenchContext,
  sb: Sandbox,
  where: Where,
  hub: BenchHub | undefined,
  detail: string,
  bytes: number,
  write: (dir: string) => Promise<WrittenFile[]>,
): Promise<{ rows: ResultRow[]; url: string; files: WrittenFile[] }> {
  const subject = label('git clone', sb.tool, where, detail)
  const made = await source(ctx, sb, where, hub, write)
  await exec(pushCommand(sb, made.src))
  const series = await measureSeries(ctx, {
    label: subject,
    setup: async () => {
      const parent = await ctx.work.tempDir(`clone-${sb.tool}`)
      const work = join(parent, 'work')
      const cleanup = async () => {
        try {
          for (const f of made.files) await checkContent(join(work, f.name), f, subject)
        } finally {
          await removeTree(parent)
        }
      }
      return { command: sb.git(parent, ['clone', '-q', made.url, 'work']), cleanup }
    },
  })
  return {
    rows: timingRows({ scenario: NAME, subject }, series, bytes),
    url: made.url,
    files: made.files,
  }
}

/** 32 clones at once from the hub: the total time, and the hub's peak RSS. */
async function concurrentRows(
  ctx: BenchContext,
  sb: Sandbox,
  hub: BenchHub,
  url: string,
  files: WrittenFile[],
): Promise<ResultRow[]> {
  const subject = `${CONCURRENT} concurrent git clone (mlvc, hub), ${files.length} files of 1 MiB`
  const parent = await ctx.work.tempDir('concurrent')
  // Each clone holds its files twice (work tree and store): a full disk would stop every process.
  let bytes = 0
  for (const f of files) bytes += f.size
  const needed = CONCURRENT * 2 * bytes * 1.1
  const { bavail, bsize } = await statfs(parent)
  if (bavail * bsize < needed) {
    throw new Error(
      `${subject}: needs about ${formatSize(needed)} free in ${parent}, has ${formatSize(bavail * bsize)} (use a smaller --size)`,
    )
  }
  try {
    const started = process.hrtime.bigint()
    const results = await Promise.allSettled(
      Array.from({ length: CONCURRENT }, (_, i) =>
        exec(sb.git(parent, ['clone', '-q', url, `c${i}`])),
      ),
    )
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    for (let i = 0; i < CONCURRENT; i++) {
      for (const f of files) await checkContent(join(parent, `c${i}`, f.name), f, subject)
    }
    const rss = await hub.peakRssMiB()
    ctx.log(`${subject}: ${seconds.toFixed(1)} s, hub peak RSS ${rss.toFixed(0)} MiB`)
    return [
      row({ scenario: NAME, subject }, 'time', 's', [seconds]),
      row({ scenario: NAME, subject: 'hub process (all of the above)' }, 'peak RSS', 'MiB', [rss], {
        target: HUB_RSS,
      }),
    ]
  } finally {
    await removeTree(parent)
  }
}

/** Rows of one file: ratios to the hub's, the folder remote's and git-lfs's throughput judged. */
function judged(rows: ResultRow[], command: string, detail: string): ResultRow[] {
  const ratios = addRatios(rows, label(command, 'mlvc', 'hub', detail))
  const folder = withTarget(
    ratios,
    label(command, 'mlvc', 'folder', detail),
    'throughput',
    HUB_VS_FOLDER,
  )
  return withTarget(folder, label(command, 'git-lfs', 'folder', detail), 'throughput', HUB_VS_LFS)
}

function withTarget(
  rows: ResultRow[],
  subject: string,
  metric: string,
  target: Target,
): ResultRow[] {
  return rows.map((r) => (r.subject === subject && r.metric === metric ? { ...r, target } : r))
}

export const hub: Scenario = {
  name: NAME,
  title:
    'the hub: push and clone through `mlvc hub serve` on loopback, against a folder remote and git-lfs',
  issue: 15,
  about: [
    'A hub (`mlvc hub serve`, embedded defaults) on 127.0.0.1, a user logged in with `mlvc login`.',
    'Timed: `git push` of one random file of --size (the pre-push hook uploads it; the hub checks',
    'every pack against its index and runs the push gate) to a fresh hub repository, to a folder',
    'remote with a bare repository, and with git-lfs to a bare repository; then `git clone` (the',
    'checkout fetches the data) from each; then `git clone` of 1,000 files of 1 MiB from the hub',
    'and with git-lfs; then 32 clones of that repository at once from the hub: the total time and',
    "the hub process's peak RSS (VmHWM) over the whole scenario. Every clone's files are checked.",
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    const file = await randomFile(ctx.work.data, size)
    const count = smallFileCount(size)
    const mlvc = await openSandbox(ctx, 'mlvc')
    const lfsWanted = ctx.options.peers.includes('git-lfs')
    const lfs = lfsWanted ? await openSandbox(ctx, 'git-lfs') : undefined
    const hubProcess = await startBenchHub(ctx, mlvc)
    const rows: ResultRow[] = []
    try {
      const one = `1 file of ${formatSize(size)}`
      const push: ResultRow[] = []
      pushAll(push, await pushRows(ctx, mlvc, 'hub', hubProcess, file, size))
      pushAll(push, await pushRows(ctx, mlvc, 'folder', undefined, file, size))
      if (lfs) pushAll(push, await pushRows(ctx, lfs, 'folder', undefined, file, size))
      pushAll(rows, judged(push, 'git push', one))

      const writeOne = async (dir: string) => {
        await placeFile(file, join(dir, 'data.bin'), 'link')
        return [{ name: 'data.bin', ...expectedOf(file, size) }]
      }
      const clone: ResultRow[] = []
      pushAll(clone, (await cloneRows(ctx, mlvc, 'hub', hubProcess, one, size, writeOne)).rows)
      pushAll(clone, (await cloneRows(ctx, mlvc, 'folder', undefined, one, size, writeOne)).rows)
      if (lfs)
        pushAll(clone, (await cloneRows(ctx, lfs, 'folder', undefined, one, size, writeOne)).rows)
      pushAll(rows, judged(clone, 'git clone', one))

      const many = `${count} files of 1 MiB`
      const writeMany = async (dir: string) => writeSmallFiles(file, dir, count)
      const small = await cloneRows(ctx, mlvc, 'hub', hubProcess, many, count * 2 ** 20, writeMany)
      const smallRows = [...small.rows]
      if (lfs)
        pushAll(
          smallRows,
          (await cloneRows(ctx, lfs, 'folder', undefined, many, count * 2 ** 20, writeMany)).rows,
        )
      else
        smallRows.push(
          unavailable(
            { scenario: NAME, subject: label('git clone', 'git-lfs', 'folder', many) },
            'time',
            's',
            'git-lfs not among --peers',
          ),
        )
      const smallHub = label('git clone', 'mlvc', 'hub', many)
      pushAll(
        rows,
        withTarget(
          addRatios(smallRows, smallHub),
          label('git clone', 'git-lfs', 'folder', many),
          'time',
          FILES_VS_LFS,
        ),
      )

      pushAll(rows, await concurrentRows(ctx, mlvc, hubProcess, small.url, small.files))
    } finally {
      await hubProcess.stop()
      await removeTree(mlvc.home)
      if (lfs) await removeTree(lfs.home)
    }
    return rows
  },
}
