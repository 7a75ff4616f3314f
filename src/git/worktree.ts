import { chmod, mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { tensorDeltas } from '../checkpoint/index.ts'
import { isErrno, type ProgressOptions } from '../core/index.ts'
import { materialize, type Store } from '../store/index.ts'
import { git, runGit } from './exec.ts'
import { fileIdentity, type StatCache, statEntry } from './stat-cache.ts'
import { formatStub, type Stub } from './stub.ts'
import { checkStubContent } from './stub-check.ts'

export interface WorkTreeWriter {
  workTree: string
  /** This work tree's git dir: temporary files go to <gitDir>/mlvc-tmp, not among the user's files. */
  gitDir: string
  store: Store
  statCache: StatCache
}

async function holdsStub(path: string, text: string): Promise<boolean> {
  try {
    if ((await stat(path)).size !== Buffer.byteLength(text)) return false
    return (await readFile(path, 'utf8')) === text
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false
    throw err
  }
}

/**
 * Replaces the stub at `path` in the work tree with the content it names (verified, atomic, file
 * mode kept) and records the result in the stat cache. Does nothing and returns false unless the
 * file holds exactly that stub: a file the user changed meanwhile is never overwritten. Throws
 * BAD_STUB when the stub's size or sha256 disagree with the content its id names.
 */
export async function writeContentOverStub(
  writer: WorkTreeWriter,
  path: string,
  stub: Stub,
  options: ProgressOptions = {},
): Promise<boolean> {
  const abs = join(writer.workTree, path)
  const text = formatStub(stub)
  if (!(await holdsStub(abs, text))) return false
  await checkStubContent(writer.store, stub, path)
  const { mode } = await stat(abs)
  const tmpDir = join(writer.gitDir, 'mlvc-tmp')
  await mkdir(tmpDir, { recursive: true })
  await materialize(writer.store, stub.id, abs, { ...options, tmpDir, deltas: tensorDeltas() })
  await chmod(abs, mode & 0o7777)
  const identity = await fileIdentity(abs)
  // Written by us a moment ago: no concurrent edit can hide behind the same stat data.
  if (identity)
    writer.statCache.set(path, { ...statEntry(identity, stub.sha256, text), racy: false })
  return true
}

/**
 * Makes git look at these files' content again. Git trusts a changed size in the index's stat data
 * without reading the file, so after replacing stubs it would list them as modified. Re-adding the
 * same blobs with --index-info clears their stat data; git then runs the clean filter once (a stat
 * cache hit) and records the new stat data itself.
 */
export async function recheckInIndex(workTree: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return
  const listed = await git(['ls-files', '-s', '-z', '--', ...paths], { cwd: workTree })
  const entries = listed.split('\0').filter((e) => / 0\t/.test(e))
  if (entries.length === 0) return
  const result = await runGit(['update-index', '-z', '--index-info'], {
    cwd: workTree,
    input: `${entries.join('\0')}\0`,
  })
  if (result.code !== 0) {
    throw new Error(`git update-index failed: ${result.stderr.trim().split('\n').at(-1) ?? ''}`)
  }
}
