import type { BenchContext } from '../context.ts'
import { removeTree } from '../fsutil.ts'
import type { Sandbox } from '../git/sandbox.ts'
import { exec } from '../proc.ts'
import { unavailable } from '../rows.ts'
import type { ResultRow } from '../types.ts'
import { type S3Source, type SourceSpec, s3Sandbox, s3Source } from './mlvc.ts'
import { rcloneCopy, rcloneEnv, rclonePath } from './rclone.ts'
import { type BenchS3, openS3, rgwMissing } from './server.ts'

/** Where rclone's downloads read from: its own upload of the source's files. */
export const RCLONE_SOURCE = 'rclone-source'

/** What an S3 scenario measures in: a server, a sandbox, the source pushed, rclone set up. */
export interface S3Setting {
  ctx: BenchContext
  sb: Sandbox
  s3: BenchS3
  source: S3Source
  /** rclone's environment for this server; undefined when rclone is not installed. */
  rclone: NodeJS.ProcessEnv | undefined
}

export interface SettingSpec extends SourceSpec {
  scenario: string
  /** The subjects, for "not available" rows on a machine without Ceph. */
  subjects: string[]
  /** What rclone uploads (untimed) to RCLONE_SOURCE: a file or folder of the source. */
  rcloneSource(source: S3Source): string
}

async function inSandbox(
  ctx: BenchContext,
  s3: BenchS3,
  spec: SettingSpec,
  measure: (set: S3Setting) => Promise<ResultRow[]>,
): Promise<ResultRow[]> {
  const sb = await s3Sandbox(ctx, s3)
  try {
    const source = await s3Source(ctx, sb, s3, spec)
    const rclone = ctx.tools.rclone ? rcloneEnv(sb.env, s3.server) : undefined
    if (rclone) {
      await exec(rcloneCopy(ctx, rclone, spec.rcloneSource(source), rclonePath(RCLONE_SOURCE)))
    }
    return await measure({ ctx, sb, s3, source, rclone })
  } finally {
    await removeTree(sb.home)
  }
}

/**
 * Starts a server, commits and pushes the source (`s3Source`), gives rclone its copy, runs
 * `measure`, and removes it all; on a machine without Ceph, "not available" rows that say how to
 * install it.
 */
export async function withS3Setting(
  ctx: BenchContext,
  spec: SettingSpec,
  measure: (set: S3Setting) => Promise<ResultRow[]>,
): Promise<ResultRow[]> {
  const missing = await rgwMissing()
  if (missing) {
    return spec.subjects.map((subject) =>
      unavailable({ scenario: spec.scenario, subject }, 'throughput', 'MB/s', missing),
    )
  }
  ctx.log(`${spec.scenario}: starting the gateway, committing and pushing the source (untimed)`)
  const s3 = await openS3()
  try {
    return await inSandbox(ctx, s3, spec, measure)
  } finally {
    await s3.close()
  }
}
