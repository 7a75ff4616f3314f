import { basename, join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { removeTree } from '../fsutil.ts'
import { checkContent } from '../git/content.ts'
import type { WrittenFile } from '../git/files.ts'
import type { Trial } from '../measure.ts'
import type { Command } from '../proc.ts'
import type { Contender } from './compare.ts'
import { type BenchS3, BUCKET } from './server.ts'

/** The name rclone knows the server by: `bench:bench/PREFIX`. */
const REMOTE = 'bench'

export interface S3Endpoint {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
}

/**
 * rclone configured for the server by environment variables alone (no config file: RCLONE_CONFIG
 * is /dev/null, so nothing is read from or written to a HOME), added to a sandbox's environment.
 * Everything else is rclone's default, as `rclone copy` runs for its users.
 */
export function rcloneEnv(base: NodeJS.ProcessEnv, s3: S3Endpoint): NodeJS.ProcessEnv {
  const prefix = `RCLONE_CONFIG_${REMOTE.toUpperCase()}`
  return {
    ...base,
    RCLONE_CONFIG: '/dev/null',
    [`${prefix}_TYPE`]: 's3',
    [`${prefix}_PROVIDER`]: 'Ceph',
    [`${prefix}_ENDPOINT`]: s3.endpoint,
    [`${prefix}_ACCESS_KEY_ID`]: s3.accessKeyId,
    [`${prefix}_SECRET_ACCESS_KEY`]: s3.secretAccessKey,
    [`${prefix}_FORCE_PATH_STYLE`]: 'true',
  }
}

/** `bench:bench/PREFIX[/NAME]`: an object or a folder on the server, for rclone. */
export function rclonePath(prefix: string, name?: string): string {
  return `${REMOTE}:${BUCKET}/${prefix}${name === undefined ? '' : `/${name}`}`
}

/** `rclone copy FROM TO`: a file or a folder's content, either way. */
export function rcloneCopy(
  ctx: BenchContext,
  env: NodeJS.ProcessEnv,
  from: string,
  to: string,
): Command {
  return { file: ctx.tools.rclone ?? 'rclone', args: ['copy', from, to], env }
}

/** The row note for a machine without rclone. */
export const RCLONE_MISSING = 'not available: rclone is not installed (apt-get install -y rclone)'

let uploads = 0

/**
 * One timed `rclone copy FROM bench:bench/PREFIX` (a file or a folder) to an empty prefix; the
 * server must then hold `objects` objects of `bytes` in all. The prefix is emptied afterwards.
 */
export async function rcloneUpTrial(
  ctx: BenchContext,
  env: NodeJS.ProcessEnv,
  s3: BenchS3,
  what: { label: string; from: string; objects: number; bytes: number; warm: string[] },
): Promise<Trial> {
  const prefix = `rclone-up-${++uploads}`
  return {
    command: rcloneCopy(ctx, env, what.from, rclonePath(prefix)),
    warm: what.warm,
    check: async () => {
      const got = await s3.count(prefix)
      if (got.objects !== what.objects || got.bytes !== what.bytes) {
        throw new Error(
          `${what.label}: the server holds ${got.objects} objects of ${got.bytes} bytes, expected ${what.objects} of ${what.bytes}`,
        )
      }
    },
    cleanup: () => s3.empty(prefix),
  }
}

/**
 * One timed `rclone copy bench:bench/PREFIX[/NAME] DIR` into a fresh folder; every file must then
 * have its content (sha256). `files` are named by their base name in DIR.
 */
export async function rcloneDownTrial(
  ctx: BenchContext,
  env: NodeJS.ProcessEnv,
  what: { label: string; from: string; files: WrittenFile[] },
): Promise<Trial> {
  const dir = await ctx.work.tempDir('rclone-down')
  return {
    command: rcloneCopy(ctx, env, what.from, dir),
    check: async () => {
      for (const f of what.files) await checkContent(join(dir, basename(f.name)), f, what.label)
    },
    cleanup: () => removeTree(dir),
  }
}

/** rclone as a subject of a comparison, or "not available" (with the install command) without it. */
export function rcloneContender(
  label: string,
  env: NodeJS.ProcessEnv | undefined,
  setup: (env: NodeJS.ProcessEnv) => Promise<Trial>,
): Contender {
  return env ? { label, setup: () => setup(env) } : { label, missing: RCLONE_MISSING }
}
