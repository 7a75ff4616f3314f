import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { removeTree } from '../fsutil.ts'
import { checkContent } from '../git/content.ts'
import type { WrittenFile } from '../git/files.ts'
import { commitAll, initRepo } from '../git/repos.ts'
import { BASE_GITCONFIG, openSandbox, type Sandbox } from '../git/sandbox.ts'
import type { Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { storeFiles } from '../scenarios/ckpt-trials.ts'
import type { BenchS3 } from './server.ts'

/**
 * A sandbox (`git/sandbox.ts`) whose processes reach the server: its credentials in the AWS SDK's
 * environment variables, and a Git config without mlvc's filter (`NO_FILTER_GITCONFIG` in HOME)
 * for clones that must not smudge.
 */
export async function s3Sandbox(ctx: BenchContext, s3: BenchS3): Promise<Sandbox> {
  const sb = await openSandbox(ctx, 'mlvc')
  Object.assign(sb.env, {
    AWS_ACCESS_KEY_ID: s3.server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.server.secretAccessKey,
  })
  await writeFile(join(sb.home, NO_FILTER_GITCONFIG), BASE_GITCONFIG)
  return sb
}

const NO_FILTER_GITCONFIG = 'no-filter.gitconfig'

export interface S3RemoteSpec {
  name: string
  prefix: string
  encrypt: boolean
  /** @default the server's; a proxy in front of it */
  endpoint?: string
}

/** `mlvc remote add NAME s3://bench/PREFIX --endpoint URL [--encrypt]` in `dir`. */
export async function addS3Remote(
  sb: Sandbox,
  dir: string,
  s3: BenchS3,
  remote: S3RemoteSpec,
): Promise<void> {
  const args = ['remote', 'add', remote.name, s3.url(remote.prefix)]
  args.push('--endpoint', remote.endpoint ?? s3.server.endpoint)
  if (remote.encrypt) args.push('--encrypt')
  await exec(sb.mlvc(dir, args))
}

/** The part of `mlvc --json push` the benchmarks check (src/cli/commands/sync.ts). */
interface PushJson {
  objects?: number
  present?: number
  uploadedObjects?: number
  uploadedBytes?: number
}

/** The part of `mlvc --json fetch` the benchmarks check. */
interface FetchJson {
  objects?: number
  fetchedObjects?: number
  fetchedBytes?: number
  missing?: string[]
}

function parse<T>(stdout: string, what: string): T {
  try {
    return JSON.parse(stdout) as T
  } catch {
    throw new Error(`${what} printed no JSON: ${stdout.slice(0, 200)}`)
  }
}

/**
 * Throws unless a push to an empty remote sent every object the files need and at least `bytes`
 * (their content), so that a push that skipped something is never timed as a fast one.
 */
export function checkPushReport(stdout: string, bytes: number, what: string): void {
  const r = parse<PushJson>(stdout, what)
  const objects = r.objects ?? 0
  if (objects === 0 || r.present !== 0 || r.uploadedObjects !== objects) {
    throw new Error(
      `${what}: ${r.uploadedObjects} of ${objects} objects sent, ${r.present} already there; expected all to an empty remote`,
    )
  }
  if ((r.uploadedBytes ?? 0) < bytes) {
    throw new Error(`${what}: sent ${r.uploadedBytes} bytes, less than the ${bytes} of the files`)
  }
}

/** Throws unless a fetch into an empty store got every object the files need, `bytes` at least. */
export function checkFetchReport(stdout: string, bytes: number, what: string): void {
  const r = parse<FetchJson>(stdout, what)
  const objects = r.objects ?? 0
  if (objects === 0 || r.fetchedObjects !== objects || (r.missing?.length ?? 1) > 0) {
    throw new Error(
      `${what}: fetched ${r.fetchedObjects} of ${objects} objects, missing ${r.missing?.length}`,
    )
  }
  if ((r.fetchedBytes ?? 0) < bytes) {
    throw new Error(`${what}: fetched ${r.fetchedBytes} bytes, less than the ${bytes} of the files`)
  }
}

/** A source repository whose files are committed, and pushed to a bare repository and remotes. */
export interface S3Source {
  src: string
  bare: string
  files: WrittenFile[]
  bytes: number
}

export interface SourceSpec {
  /** Tracked patterns (initRepo's). */
  patterns: string[]
  /** Puts the files into the work tree and commits them; returns them. */
  commit(sb: Sandbox, dir: string): Promise<WrittenFile[]>
  /** Remotes clones fetch from, committed in .mlvc/config.yaml and pushed to (untimed). */
  remotes: S3RemoteSpec[]
}

export async function s3Source(
  ctx: BenchContext,
  sb: Sandbox,
  s3: BenchS3,
  spec: SourceSpec,
): Promise<S3Source> {
  const base = await ctx.work.tempDir('s3-source')
  const src = join(base, 'src')
  await initRepo(sb, src, spec.patterns)
  const files = await spec.commit(sb, src)
  for (const remote of spec.remotes) await addS3Remote(sb, src, s3, remote)
  await exec(sb.git(src, ['add', '.mlvc/config.yaml']))
  await commitAll(sb, src, 'mlvc remotes')
  for (const remote of spec.remotes) await exec(sb.mlvc(src, ['--quiet', 'push', remote.name]))
  const bare = join(base, 'origin.git')
  await exec(sb.git(base, ['init', '-q', '--bare', '-b', 'main', bare]))
  await exec(sb.git(src, ['remote', 'add', 'origin', bare]))
  // The pre-push hook would push to the default remote again: done above.
  await exec(sb.git(src, ['push', '-q', '--no-verify', 'origin', 'main']))
  const bytes = files.reduce((sum, f) => sum + f.size, 0)
  return { src, bare, files, bytes }
}

let pushes = 0

/**
 * One timed `mlvc push` of the source's files to a remote added for this run alone (a new name
 * and an empty prefix: nothing there, nothing cached for it in the store), removed afterwards.
 */
export async function pushTrial(
  sb: Sandbox,
  s3: BenchS3,
  source: S3Source,
  how: { label: string; encrypt: boolean },
): Promise<Trial> {
  const name = `push-${++pushes}`
  await addS3Remote(sb, source.src, s3, { name, prefix: name, encrypt: how.encrypt })
  return {
    command: sb.mlvc(source.src, ['--quiet', '--json', 'push', name]),
    warm: await storeFiles(source.src),
    check: (stdout) => checkPushReport(stdout, source.bytes, how.label),
    cleanup: async () => {
      await s3.empty(name)
      await exec(sb.mlvc(source.src, ['remote', 'remove', name]))
    },
  }
}

/**
 * One timed `mlvc fetch REMOTE` in a fresh clone of the source (a fresh store) made with a Git
 * config that lacks mlvc's filter, so the checkout left the stubs and fetched nothing. Afterwards
 * `mlvc pull` writes the files from the store (nothing left to fetch) and their sha256 is checked.
 */
export async function fetchTrial(
  ctx: BenchContext,
  sb: Sandbox,
  source: S3Source,
  how: { label: string; remote: string },
): Promise<Trial> {
  const parent = await ctx.work.tempDir('s3-clone')
  const clone = join(parent, 'work')
  const env = { ...sb.env, GIT_CONFIG_GLOBAL: join(sb.home, NO_FILTER_GITCONFIG) }
  await exec({ ...sb.git(parent, ['clone', '-q', source.bare, clone]), env })
  return {
    command: sb.mlvc(clone, ['--quiet', '--json', 'fetch', how.remote]),
    check: async (stdout) => {
      checkFetchReport(stdout, source.bytes, how.label)
      await exec(sb.mlvc(clone, ['--quiet', 'pull', how.remote]))
      for (const f of source.files) await checkContent(join(clone, f.name), f, how.label)
    },
    cleanup: () => removeTree(parent),
  }
}
