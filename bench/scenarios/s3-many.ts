import { join } from 'node:path'
import type { Scenario } from '../context.ts'
import { randomFile } from '../data/random.ts'
import { filesUnder } from '../git/content.ts'
import { writeSmallFiles } from '../git/files.ts'
import { addAndCommit } from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type Contender, compare, speedRatioRow } from '../s3/compare.ts'
import { fetchTrial, pushTrial, type S3Source } from '../s3/mlvc.ts'
import { rcloneContender, rcloneDownTrial, rclonePath, rcloneUpTrial } from '../s3/rclone.ts'
import { RCLONE_SOURCE, type S3Setting, withS3Setting } from '../s3/setting.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 's3-many'
/** The issue's "10,000 files of 100 KiB". */
export const MANY_FILES = 10_000
export const MANY_FILE_SIZE = 100 * 1024
const FOLDER = 'files'
const ORIGIN = { name: 'origin', prefix: 'fetch', encrypt: false }

type Verb = 'push' | 'fetch'
const SUBJECTS: Record<Verb, { mlvc: string; rclone: string }> = {
  push: { mlvc: 'mlvc push', rclone: 'rclone copy, upload' },
  fetch: { mlvc: 'mlvc fetch', rclone: 'rclone copy, download' },
}

const FASTER: Target = {
  on: 'value',
  op: '>=',
  threshold: 5,
  text: '≥ 5× (mlvc 5× faster than rclone)',
  source: 'issue 13',
}

/** 10,000 files, or as many of 100 KiB as --size holds (at least one). */
export function manyFileCount(size: number): number {
  return Math.max(1, Math.min(MANY_FILES, Math.floor(size / MANY_FILE_SIZE)))
}

function contenders(set: S3Setting, verb: Verb): Contender[] {
  const { ctx, sb, s3, source } = set
  const { mlvc, rclone } = SUBJECTS[verb]
  if (verb === 'push') {
    const folder = join(source.src, FOLDER)
    return [
      { label: mlvc, setup: () => pushTrial(sb, s3, source, { label: mlvc, encrypt: false }) },
      rcloneContender(rclone, set.rclone, async (env) =>
        rcloneUpTrial(ctx, env, s3, {
          label: rclone,
          from: folder,
          objects: source.files.length,
          bytes: source.bytes,
          warm: await filesUnder(folder),
        }),
      ),
    ]
  }
  return [
    { label: mlvc, setup: () => fetchTrial(ctx, sb, source, { label: mlvc, remote: ORIGIN.name }) },
    rcloneContender(rclone, set.rclone, (env) =>
      rcloneDownTrial(ctx, env, {
        label: rclone,
        from: rclonePath(RCLONE_SOURCE),
        files: source.files,
      }),
    ),
  ]
}

async function verbRows(set: S3Setting, verb: Verb): Promise<ResultRow[]> {
  const { mlvc, rclone } = SUBJECTS[verb]
  const compared = await compare(set.ctx, NAME, set.source.bytes, contenders(set, verb))
  const ratio = { a: mlvc, b: rclone, metric: 'times faster than rclone, run by run' }
  return [...compared.rows, speedRatioRow(NAME, compared, { ...ratio, target: FASTER })]
}

export const s3Many: Scenario = {
  name: NAME,
  title: 'push and fetch of 10,000 files of 100 KiB to and from S3, against rclone',
  issue: 13,
  about: [
    'The server, the sandbox and the checks are those of `s3-transfer`. The input is 10,000 files',
    'of 100 KiB in one folder (consecutive slices of the random file, so nothing deduplicates;',
    'fewer when --size is under 1,000,000 KiB), tracked and committed once (`git add` of 10,000',
    'files through the filter is slow: it is set-up, not timed). Timed, runs alternating: `mlvc',
    'push NAME` to a remote added for that run against `rclone copy FOLDER` to an empty prefix',
    '(one request per file, four at a time: its defaults); `mlvc fetch` in a fresh clone against',
    '`rclone copy` of the folder into an empty one. The ratio rows divide rclone’s time by mlvc’s,',
    'round by round.',
  ].join('\n'),
  async run(ctx) {
    const input = await randomFile(ctx.work.data, ctx.options.size)
    const count = manyFileCount(ctx.options.size)
    ctx.log(`${NAME}: ${count} files of 100 KiB; git add of them is slow (not timed)`)
    const spec = {
      scenario: NAME,
      subjects: Object.values(SUBJECTS).flatMap((s) => [s.mlvc, s.rclone]),
      patterns: ['*.bin'],
      async commit(sb: Sandbox, dir: string) {
        const files = writeSmallFiles(input, dir, count, MANY_FILE_SIZE)
        await addAndCommit(sb, dir, [FOLDER])
        return files
      },
      remotes: [ORIGIN],
      rcloneSource: (source: S3Source) => join(source.src, FOLDER),
    }
    return withS3Setting(ctx, spec, async (set) => [
      ...(await verbRows(set, 'push')),
      ...(await verbRows(set, 'fetch')),
    ])
  },
}
