import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Scenario } from '../context.ts'
import { checkpointFile } from '../data/safetensors.ts'
import { CKPT, CKPT_PATTERN, commitCheckpoint } from '../git/ckpt.ts'
import { expectedOf } from '../git/content.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { type Contender, compare, speedRatioRow } from '../s3/compare.ts'
import { fetchTrial, pushTrial, type S3Source } from '../s3/mlvc.ts'
import { rcloneContender, rcloneDownTrial, rclonePath, rcloneUpTrial } from '../s3/rclone.ts'
import { RESUMED, resumeRows, UNINTERRUPTED } from '../s3/resume.ts'
import { RCLONE_SOURCE, type S3Setting, withS3Setting } from '../s3/setting.ts'
import type { ResultRow, Target } from '../types.ts'

const NAME = 's3-transfer'
/** The remotes clones fetch from (pushed to once, untimed). */
const PLAIN = { name: 'plain', prefix: 'fetch-plain', encrypt: false }
const SEALED = { name: 'sealed', prefix: 'fetch-sealed', encrypt: true }

type Verb = 'push' | 'fetch'
const SUBJECTS: Record<Verb, { plain: string; sealed: string; rclone: string }> = {
  push: {
    plain: 'mlvc push',
    sealed: 'mlvc push, encrypted remote',
    rclone: 'rclone copy, upload',
  },
  fetch: {
    plain: 'mlvc fetch',
    sealed: 'mlvc fetch, encrypted remote',
    rclone: 'rclone copy, download',
  },
}

const SOURCE = 'issue 13'
const RSS: Target = { on: 'value', op: '<', threshold: 300, text: '< 300 MiB', source: SOURCE }
const NEAR_RCLONE: Target = {
  on: 'value',
  op: '>=',
  threshold: 0.9,
  text: '≥ 0.90× (90% of rclone’s throughput)',
  source: SOURCE,
}
const ENCRYPTION_COST: Target = {
  on: 'value',
  op: '>=',
  threshold: 0.85,
  text: '≥ 0.85× (encryption costs ≤ 15%)',
  source: SOURCE,
}

/** mlvc to a plain remote (the RSS target), to an encrypted one, and rclone, for one verb. */
function contenders(set: S3Setting, verb: Verb): Contender[] {
  const { ctx, sb, s3, source } = set
  const { plain, sealed, rclone } = SUBJECTS[verb]
  if (verb === 'push') {
    const file = join(source.src, CKPT)
    return [
      {
        label: plain,
        setup: () => pushTrial(sb, s3, source, { label: plain, encrypt: false }),
        targets: { peakRss: RSS },
      },
      { label: sealed, setup: () => pushTrial(sb, s3, source, { label: sealed, encrypt: true }) },
      rcloneContender(rclone, set.rclone, (env) =>
        rcloneUpTrial(ctx, env, s3, {
          label: rclone,
          from: file,
          objects: 1,
          bytes: source.bytes,
          warm: [file],
        }),
      ),
    ]
  }
  return [
    {
      label: plain,
      setup: () => fetchTrial(ctx, sb, source, { label: plain, remote: PLAIN.name }),
      targets: { peakRss: RSS },
    },
    {
      label: sealed,
      setup: () => fetchTrial(ctx, sb, source, { label: sealed, remote: SEALED.name }),
    },
    rcloneContender(rclone, set.rclone, (env) =>
      rcloneDownTrial(ctx, env, {
        label: rclone,
        from: rclonePath(RCLONE_SOURCE, CKPT),
        files: source.files,
      }),
    ),
  ]
}

/** One verb's subjects timed in alternation, and the ratios the issue's targets judge. */
async function verbRows(set: S3Setting, verb: Verb): Promise<ResultRow[]> {
  const { plain, sealed, rclone } = SUBJECTS[verb]
  const compared = await compare(set.ctx, NAME, set.source.bytes, contenders(set, verb))
  return [
    ...compared.rows,
    speedRatioRow(NAME, compared, {
      a: plain,
      b: rclone,
      metric: 'throughput / rclone’s, run by run',
      target: NEAR_RCLONE,
    }),
    speedRatioRow(NAME, compared, {
      a: sealed,
      b: plain,
      metric: `throughput / unencrypted ${verb}’s, run by run`,
      target: ENCRYPTION_COST,
    }),
  ]
}

export const s3Transfer: Scenario = {
  name: NAME,
  title: 'push and fetch of a checkpoint to and from S3, against rclone; encryption; resumption',
  issue: 13,
  about: [
    'A throwaway Ceph RADOS Gateway on 127.0.0.1 (`services/rgw.ts`, memstore) serves one bucket;',
    'mlvc reaches it as an S3 remote (`mlvc remote add NAME s3://bench/PREFIX --endpoint URL`),',
    'rclone (Debian’s, every setting its default) through environment variables alone. The input',
    'is the synthetic safetensors checkpoint v1 of `ckpt-growth`, committed once in a sandbox',
    'repository (set up as in `ckpt-add`). Timed, with the runs of the three subjects of each',
    'group alternating: `mlvc push NAME` to a remote added for that run (an empty prefix, nothing',
    'cached for it; plain, and `--encrypt`ed) against `rclone copy FILE` to an empty prefix; then',
    '`mlvc fetch NAME` in a fresh clone (made with a Git config without mlvc’s filter, so it holds',
    'stubs and an empty store) from a plain and an encrypted remote, against `rclone copy` of the',
    'file into an empty folder. Checked after each run: the push sent every object (`--json`), the',
    'server holds rclone’s file whole, `mlvc pull` then writes the checkpoint with its sha256, and',
    'rclone’s copy has it. Objects are deleted after each run and the server’s garbage collected.',
    'The ratio rows compare the subjects round by round. Resumption: through a proxy that counts',
    'the request bytes the server receives (`services/fault-proxy.ts`), one uninterrupted push,',
    'then pushes sent SIGINT once half of those bytes went and run again to the end; a third push',
    'must find everything there. A push stops with its upload requests in flight (up to 2 packs',
    '× 4 parts of 8 MiB), so below 1 GiB the ratio says little.',
  ].join('\n'),
  async run(ctx) {
    const file = await checkpointFile(ctx.work.data, ctx.options.size, 'v1')
    const spec = {
      scenario: NAME,
      subjects: [
        ...Object.values(SUBJECTS).flatMap((s) => [s.plain, s.sealed, s.rclone]),
        UNINTERRUPTED,
        RESUMED,
      ],
      patterns: [CKPT_PATTERN],
      async commit(sb: Sandbox, dir: string) {
        await commitCheckpoint(sb, dir, file)
        return [{ name: CKPT, ...expectedOf(file, (await stat(file)).size) }]
      },
      remotes: [PLAIN, SEALED],
      rcloneSource: (source: S3Source) => join(source.src, CKPT),
    }
    return withS3Setting(ctx, spec, async (set) => [
      ...(await verbRows(set, 'push')),
      ...(await verbRows(set, 'fetch')),
      ...(await resumeRows(NAME, set)),
    ])
  },
}
