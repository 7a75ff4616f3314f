import {
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { BenchContext, Scenario } from '../context.ts'
import { entityDataset, entityFileCount, entityFiles, newContent } from '../data/entity-files.ts'
import { removeTree, syncDisks, treeSize } from '../fsutil.ts'
import { warmFiles } from '../git/content.ts'
import { openSandbox, type Sandbox } from '../git/sandbox.ts'
import { type Command, exec, runTimed, type Sample } from '../proc.ts'
import { row, unavailable } from '../rows.ts'
import { rcloneCopy, rcloneEnv, rclonePath } from '../s3/rclone.ts'
import { type BenchS3, openS3, rgwMissing } from '../s3/server.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 'entities'
const DS = 'ds'

const target = (
  op: Target['op'],
  threshold: number,
  text: string,
  on: Target['on'] = 'value',
): Target => ({
  on,
  op,
  threshold,
  text,
  source: 'issue 14',
})

/** One timed process (wall clock, peak RSS); logged as it finishes, so a long run shows its figures. */
async function timed(ctx: BenchContext, what: string, command: Command): Promise<Sample> {
  await syncDisks()
  const sample = await runTimed(command, {
    timeBin: ctx.tools.time,
    reportPath: join(ctx.work.root, `time-${process.pid}.txt`),
  })
  ctx.log(
    `${NAME}: ${what}: ${sample.seconds.toFixed(2)} s, peak RSS ${sample.peakRssKiB === null ? '?' : (sample.peakRssKiB / 1024).toFixed(0)} MiB`,
  )
  return sample
}

interface Rows {
  out: ResultRow[]
  time(
    subject: string,
    samples: Sample[],
    extra?: { target?: Target; ratioTo?: { subject: string; value: number } },
  ): number
  value(subject: string, metric: string, unit: ResultRow['unit'], value: number, t?: Target): void
}

function rowsOf(ctx: BenchContext): Rows {
  const out: ResultRow[] = []
  return {
    out,
    time(subject, samples, extra = {}) {
      const seconds = samples.reduce((s, x) => s + x.seconds, 0)
      out.push(row({ scenario: NAME, subject }, 'time', 's', [seconds], extra))
      const rss = samples.reduce((m, s) => Math.max(m, s.peakRssKiB ?? 0), 0)
      if (rss > 0 && subject.startsWith('mlvc'))
        out.push(
          row({ scenario: NAME, subject }, 'peak RSS', 'MiB', [rss / 1024], {
            target: target('<', 500, '< 500 MiB'),
          }),
        )
      return seconds
    },
    value(subject, metric, unit, value, t) {
      ctx.log(`${NAME}: ${subject}: ${metric} ${value.toFixed(3)} ${unit}`)
      out.push(row({ scenario: NAME, subject }, metric, unit, [value], t ? { target: t } : {}))
    },
  }
}

function linkTree(
  src: string,
  dst: string,
  files: readonly { path: string }[],
  copy = false,
): void {
  const made = new Set<string>()
  for (const f of files) {
    const folder = f.path.slice(0, f.path.indexOf('/'))
    if (!made.has(folder)) mkdirSync(join(dst, folder), { recursive: true })
    made.add(folder)
    if (copy) writeFileSync(join(dst, f.path), readFileSync(join(src, f.path)))
    else linkSync(join(src, f.path), join(dst, f.path))
  }
}

const git = (sb: Sandbox, dir: string, ...args: string[]) => exec(sb.git(dir, args))
const mlvc = (sb: Sandbox, dir: string, ...args: string[]) => sb.mlvc(dir, args)

/** The second version: 1% of the files changed, 1% removed, 1% added (new content each). */
function secondVersion(
  dir: string,
  files: readonly { path: string; size: number }[],
): { changed: number; bytes: number } {
  const step = 100
  let changed = 0
  let bytes = 0
  for (let i = 0; i < files.length; i += step) {
    const f = files[i] as { path: string; size: number }
    // Unlink first: the file is a hard link to the cached input.
    unlinkSync(join(dir, f.path))
    writeFileSync(join(dir, f.path), newContent(`c${i}`, f.size))
    bytes += f.size
    changed++
    const gone = files[i + 1]
    if (gone) unlinkSync(join(dir, gone.path))
    const added = join(dir, f.path.replace('.bin', '-new.bin'))
    writeFileSync(added, newContent(`a${i}`, f.size))
    bytes += f.size
  }
  return { changed, bytes }
}

async function peerAddCommit(
  ctx: BenchContext,
  tool: 'git-lfs' | 'git-annex',
  src: string,
  files: readonly { path: string }[],
): Promise<number | undefined> {
  const have = tool === 'git-lfs' ? ctx.tools.gitLfs : ctx.tools.gitAnnex
  if (!have || !ctx.options.peers.includes(tool)) return undefined
  const sb = await openSandbox(ctx, tool)
  const dir = await ctx.work.tempDir(`entities-${tool}`)
  try {
    await git(sb, dir, 'init', '-q', '-b', 'main')
    if (tool === 'git-lfs') await git(sb, dir, 'lfs', 'track', '*.bin')
    else await git(sb, dir, 'annex', 'init', '--quiet', 'bench')
    await git(sb, dir, 'add', '-A')
    await git(sb, dir, 'commit', '-q', '--allow-empty', '-m', 'set up')
    // git-annex moves added files into its store: it gets copies, never links to the input.
    linkTree(src, join(dir, DS), files, tool === 'git-annex')
    warmFiles(files.map((f) => join(dir, DS, f.path)))
    const add = await timed(
      ctx,
      `${tool} add`,
      sb.git(dir, tool === 'git-annex' ? ['annex', 'add', '--quiet', DS] : ['add', DS]),
    )
    const commit = await timed(ctx, `${tool} commit`, sb.git(dir, ['commit', '-q', '-m', 'v1']))
    return add.seconds + commit.seconds
  } finally {
    await removeTree(dir)
    await removeTree(sb.home)
  }
}

async function s3Rows(
  ctx: BenchContext,
  rows: Rows,
  repo: string,
  sb: Sandbox,
  src: string,
  bytes: number,
): Promise<void> {
  const missing = await rgwMissing()
  if (missing || process.env.MLVC_BENCH_ENTITIES_S3 === '0') {
    rows.out.push(
      unavailable(
        { scenario: NAME, subject: 'mlvc dataset push, S3' },
        'time',
        's',
        missing ?? 'skipped',
      ),
    )
    return
  }
  let s3: BenchS3 | undefined
  try {
    s3 = await openS3()
    const env = {
      AWS_ACCESS_KEY_ID: s3.server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.server.secretAccessKey,
    }
    Object.assign(sb.env, env)
    await exec(
      mlvc(
        sb,
        repo,
        'remote',
        'add',
        's3',
        s3.url('mlvc'),
        '--endpoint',
        s3.server.endpoint,
        '--local',
      ),
    )
    await exec(mlvc(sb, repo, 'remote', 'default', 's3'))
    const push = await timed(ctx, 'mlvc push, S3', mlvc(sb, repo, 'dataset', 'push', DS))
    const clone = await ctx.work.tempDir('entities-s3-clone')
    await git(sb, clone, 'clone', '-q', repo, '.')
    await exec(
      mlvc(
        sb,
        clone,
        'remote',
        'add',
        's3',
        s3.url('mlvc'),
        '--endpoint',
        s3.server.endpoint,
        '--local',
      ),
    )
    await exec(mlvc(sb, clone, 'remote', 'default', 's3'))
    const checkout = await timed(
      ctx,
      'mlvc checkout, S3',
      mlvc(sb, clone, 'dataset', 'checkout', `${DS}@1`),
    )
    await removeTree(clone)
    await s3.empty('mlvc')
    const renv = rcloneEnv(sb.env, s3.server)
    const up = await timed(
      ctx,
      'rclone copy up, S3',
      rcloneCopy(ctx, renv, src, rclonePath('rclone')),
    )
    const down = await ctx.work.tempDir('entities-rclone-down')
    const get = await timed(
      ctx,
      'rclone copy down, S3',
      rcloneCopy(ctx, renv, rclonePath('rclone'), down),
    )
    await removeTree(down)
    await s3.empty('rclone')
    const p = rows.time('mlvc dataset push, S3', [push])
    const c = rows.time('mlvc dataset checkout, S3', [checkout])
    rows.time('rclone copy to S3', [up], {
      ratioTo: { subject: 'mlvc dataset push, S3', value: up.seconds / p },
      target: target('>=', 3, '≥ 3× (mlvc faster)', 'ratio'),
    })
    rows.time('rclone copy from S3', [get], {
      ratioTo: { subject: 'mlvc dataset checkout, S3', value: get.seconds / c },
      target: target('>=', 3, '≥ 3× (mlvc faster)', 'ratio'),
    })
    rows.value('mlvc dataset push, S3', 'throughput', 'MB/s', bytes / 1e6 / push.seconds)
  } finally {
    await s3?.close()
  }
}

async function run(ctx: BenchContext): Promise<ResultRow[]> {
  const count = entityFileCount(ctx.options.size)
  const files = entityFiles(count)
  const bytes = files.reduce((s, f) => s + f.size, 0)
  ctx.log(
    `${NAME}: ${count} files, ${(bytes / 1e9).toFixed(2)} GB (written once into the data folder)`,
  )
  const src = entityDataset(ctx.work.data, files)
  const rows = rowsOf(ctx)
  const sb = await openSandbox(ctx, 'mlvc')
  const repo = await ctx.work.tempDir('entities-mlvc')
  const remote = await ctx.work.tempDir('entities-remote')
  await git(sb, repo, 'init', '-q', '-b', 'main')
  await git(sb, repo, 'commit', '-q', '--allow-empty', '-m', 'start')
  await exec(mlvc(sb, repo, 'dataset', 'init', DS, '--mutability', 'flexible'))
  await exec(mlvc(sb, repo, 'remote', 'add', 'origin', remote))
  const dir = join(repo, 'dataset', DS)
  linkTree(src, dir, files)

  // Every add reads its input from the page cache (as the harness does for every scenario).
  const warm = () => warmFiles(files.map((f) => join(src, f.path)))
  warm()
  const add = await timed(ctx, 'mlvc add v1', mlvc(sb, repo, 'dataset', 'add', DS))
  const commit = await timed(ctx, 'mlvc commit v1', mlvc(sb, repo, 'dataset', 'commit', DS))
  const mine = rows.time('mlvc dataset add + commit', [add, commit])
  for (const [tool, factor] of [
    ['git-lfs', 10],
    ['git-annex', 3],
  ] as const) {
    const seconds = await peerAddCommit(ctx, tool, src, files)
    const subject = tool === 'git-lfs' ? 'git add + commit (git-lfs)' : 'git annex add + commit'
    if (seconds === undefined)
      rows.out.push(
        unavailable(
          { scenario: NAME, subject },
          'time',
          's',
          `${tool} not installed or not in --peers`,
        ),
      )
    else
      rows.time(subject, [{ seconds, peakRssKiB: null, stdout: '' }], {
        ratioTo: { subject: 'mlvc dataset add + commit', value: seconds / mine },
        target: target('>=', factor, `≥ ${factor}× (mlvc faster)`, 'ratio'),
      })
  }
  const store = await treeSize(join(repo, '.git', 'mlvc'))
  const manifest = statSync(join(dir, 'MANIFEST')).size
  rows.value(
    'store + manifest',
    'overhead per file',
    'B',
    (store + manifest - bytes) / count,
    target('<=', 200, '≤ 200 B'),
  )

  const clean = await timed(
    ctx,
    'mlvc status, clean',
    mlvc(sb, repo, '--json', 'dataset', 'status', DS),
  )
  rows.time('mlvc dataset status, nothing changed', [clean], { target: target('<', 1, '< 1 s') })

  const push = await timed(ctx, 'mlvc push v1, folder', mlvc(sb, repo, 'dataset', 'push', DS))
  const pushed = rows.time('mlvc dataset push, folder remote', [push])
  const rdst = await ctx.work.tempDir('entities-rclone-folder')
  const rclone = ctx.tools.rclone
  /** A clone of the repository with the folder remote as its mlvc origin. */
  const freshClone = async () => {
    const dir = await ctx.work.tempDir('entities-clone')
    await git(sb, dir, 'clone', '-q', repo, '.')
    await exec(mlvc(sb, dir, 'remote', 'add', 'origin', remote, '--local'))
    return dir
  }
  /** rclone copying the same files, its time judged against mlvc's (≥ 3× when mlvc is faster). */
  const rcloneRow = async (
    label: string,
    from: string,
    to: string,
    subject: string,
    mlvcSeconds: number,
  ) => {
    if (!rclone) return
    const copy = await timed(ctx, label, { file: rclone, args: ['copy', from, to], env: sb.env })
    rows.time(label, [copy], {
      ratioTo: { subject, value: copy.seconds / mlvcSeconds },
      target: target('>=', 3, '≥ 3× (mlvc faster)', 'ratio'),
    })
  }
  if (rclone) warm()
  await rcloneRow('rclone copy to a folder', src, rdst, 'mlvc dataset push, folder remote', pushed)
  const clone = await freshClone()
  const sample = await timed(
    ctx,
    'mlvc checkout random:1:10',
    mlvc(sb, clone, '--json', 'dataset', 'checkout', DS, '--sample-type', 'random:1:10'),
  )
  const sampled = JSON.parse(sample.stdout) as { fetched: number; total: number }
  rows.time('mlvc dataset checkout --sample-type random:1:10, folder remote', [sample])
  rows.value(
    'mlvc dataset checkout --sample-type random:1:10',
    'files fetched / files',
    'x',
    sampled.fetched / sampled.total,
    target('<=', 0.1, '≤ 0.1 (only that tenth)'),
  )
  await removeTree(clone)
  const clone2 = await freshClone()
  const full = await timed(
    ctx,
    'mlvc checkout, folder',
    mlvc(sb, clone2, 'dataset', 'checkout', DS),
  )
  const checkedOut = rows.time('mlvc dataset checkout, folder remote', [full])
  await removeTree(clone2)
  if (rclone) {
    const down = await ctx.work.tempDir('entities-rclone-down')
    await rcloneRow(
      'rclone copy from a folder',
      rdst,
      down,
      'mlvc dataset checkout, folder remote',
      checkedOut,
    )
    await removeTree(down)
  }
  await removeTree(rdst)

  const { changed, bytes: changedBytes } = secondVersion(dir, files)
  const modified = await timed(
    ctx,
    'mlvc status, 1% changed',
    mlvc(sb, repo, '--json', 'dataset', 'status', DS),
  )
  const listed = JSON.parse(modified.stdout) as { unstaged: { modified: string[] } }
  if (listed.unstaged.modified.length !== changed)
    throw new Error(
      `status listed ${listed.unstaged.modified.length} modified files, not ${changed}`,
    )
  rows.time(`mlvc dataset status, ${changed} files modified`, [modified], {
    target: target('<', 2, '< 2 s (1,000 modified)'),
  })
  const remoteBefore = await treeSize(remote)
  const add2 = await timed(ctx, 'mlvc add v2', mlvc(sb, repo, 'dataset', 'add', DS))
  const commit2 = await timed(ctx, 'mlvc commit v2', mlvc(sb, repo, 'dataset', 'commit', DS))
  rows.time('mlvc dataset add + commit, second version', [add2, commit2])
  const grown = (await treeSize(join(repo, '.git', 'mlvc'))) - store
  rows.value(
    'store growth / changed and added bytes',
    'ratio',
    'x',
    grown / changedBytes,
    target('<=', 1.2, '≤ 1.2'),
  )
  const push2 = await timed(ctx, 'mlvc push v2', mlvc(sb, repo, 'dataset', 'push', DS))
  rows.time('mlvc dataset push, second version', [push2])
  rows.value(
    'remote growth / changed and added bytes',
    'ratio',
    'x',
    ((await treeSize(remote)) - remoteBefore) / changedBytes,
    target('<=', 1.2, '≤ 1.2'),
  )
  const numstat = await git(
    sb,
    repo,
    'diff',
    '--numstat',
    'HEAD~1',
    'HEAD',
    '--',
    `dataset/${DS}/MANIFEST`,
  )
  const [plus = 0, minus = 0] = numstat.trim().split('\t').map(Number)
  rows.value(
    'manifest diff lines / changed files',
    'ratio',
    'x',
    (plus + minus) / (4 * changed),
    target('<=', 1.01, 'proportional (1.0: 2 lines per change, 1 per add or removal)'),
  )
  await s3Rows(ctx, rows, repo, sb, src, bytes)
  await removeTree(repo)
  await removeTree(remote)
  await removeTree(sb.home)
  rmSync(join(ctx.work.root, `time-${process.pid}.txt`), { force: true })
  return rows.out
}

export const entities: Scenario = {
  name: NAME,
  title: 'datasets as versioned entities: 100,000 files of 1–100 KiB in 1,000 folders',
  issue: 14,
  about: [
    'A dataset of files of 1–100 KiB of random bytes in folders of 100 (`MLVC_BENCH_ENTITY_FILES`',
    'sets the count; else `--size` / 50.5 KiB, at least 100: `--size 5g` is the issue’s 100,000),',
    'written once into the data folder and hard-linked into each repository. One run of each:',
    '`mlvc dataset add` + `commit` against `git add` + `git commit` with git-lfs tracking `*.bin`',
    'and `git annex add` + `git commit` (a copy: annex moves files); `mlvc dataset status` clean',
    'and after 1% of the files were rewritten; the second version (1% changed, 1% removed, 1%',
    'added): store and remote growth over those bytes, and the manifest’s `git diff --numstat`',
    'lines over the changes; push to a folder remote and checkout in a fresh clone from it',
    '(and from Ceph RGW) against `rclone copy` of the same folder; a `random:1:10` checkout and the',
    'share of files it fetched; per-file overhead (store + manifest − data bytes) / files.',
  ].join('\n'),
  run,
}
