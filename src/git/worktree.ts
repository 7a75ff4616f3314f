import { chmodSync, closeSync, constants, lstatSync, openSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tensorDeltas } from '../checkpoint/index.ts'
import { isErrno, type ProgressOptions } from '../core/index.ts'
import { materialize, placeContent, type Store } from '../store/index.ts'
import { git, runGit } from './exec.ts'
import { openWorkTreeFile } from './safe-dir.ts'
import {
  type FileIdentity,
  identityOf,
  type StatCache,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
import { formatStub, type Stub } from './stub.ts'
import { checkStubContent } from './stub-check.ts'

export interface WorkTreeWriter {
  workTree: string
  /** This work tree's git dir: temporary files go to <gitDir>/mlvc-tmp, not among the user's files. */
  gitDir: string
  store: Store
  statCache: StatCache
}

/** Identity and mode of the file at `path` itself (a symlink is not followed). */
function linkIdentity(path: string): (FileIdentity & { mode: number }) | undefined {
  try {
    const st = lstatSync(path, { bigint: true })
    return st.isFile() ? { ...identityOf(st), mode: Number(st.mode) } : undefined
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
    throw err
  }
}

/** The file's identity when it is a regular file holding exactly `text` (read without following a symlink). */
function stubFile(path: string, text: string): (FileIdentity & { mode: number }) | undefined {
  const before = linkIdentity(path)
  if (!before || before.size !== Buffer.byteLength(text)) return undefined
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP')) return undefined
    throw err
  }
  let content: string
  try {
    content = readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
  const after = linkIdentity(path)
  return content === text && after && sameIdentity(before, after) ? after : undefined
}

/**
 * Replaces the stub at `path` in the work tree with the content it names (verified, atomic, file
 * mode kept) and records the result in the stat cache. Does nothing and returns false unless the
 * file holds exactly that stub, both before the content is written and right before it replaces
 * the stub: a file the user changed meanwhile is never overwritten. The file is replaced inside
 * its folder as opened without following symlinks (see safe-dir): never through a symlink, never
 * outside the work tree. Throws BAD_STUB when the stub's size or sha256 disagree with the content
 * its id names.
 */
export async function writeContentOverStub(
  writer: WorkTreeWriter,
  path: string,
  stub: Stub,
  options: ProgressOptions = {},
): Promise<boolean> {
  const file = openWorkTreeFile(writer.workTree, path)
  if (!file) return false
  try {
    const target = file.path
    const text = formatStub(stub)
    const before = stubFile(target, text)
    if (!before) return false
    await checkStubContent(writer.store, stub, path)
    const tmpDir = join(writer.gitDir, 'mlvc-tmp')
    await mkdir(tmpDir, { recursive: true })
    let placed = false
    const place = (tmp: string): boolean => {
      chmodSync(tmp, before.mode & 0o7777)
      const now = linkIdentity(target)
      if (!now || !sameIdentity(now, before)) return false
      placed = placeContent(tmp, target, 'file')
      return true
    }
    await materialize(writer.store, stub.id, path, {
      ...options,
      tmpDir,
      deltas: tensorDeltas(),
      place,
    })
    const identity = placed ? linkIdentity(target) : undefined
    // Written by us a moment ago: no concurrent edit can hide behind the same stat data.
    if (identity)
      writer.statCache.set(path, { ...statEntry(identity, stub.sha256, text), racy: false })
    return placed
  } finally {
    file.close()
  }
}

/**
 * Makes git look at these files' content again. Git trusts a changed size in the index's stat data
 * without reading the file, so after replacing stubs it would list them as modified. Re-adding the
 * same blobs with --index-info clears their stat data; git then runs the clean filter once (a stat
 * cache hit) and records the new stat data itself. The whole index is listed and filtered here:
 * the paths as pathspecs could exceed the OS's limit on a command line (E2BIG with a checkout of
 * 100,000 files), and git would take `*`, `?` and `[` in them as wildcards.
 */
export async function recheckInIndex(workTree: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return
  const wanted = new Set(paths)
  const listed = await git(['ls-files', '-s', '-z'], { cwd: workTree })
  const entries = listed.split('\0').filter((e) => {
    const tab = e.indexOf('\t')
    return tab > 0 && e.endsWith(' 0', tab) && wanted.has(e.slice(tab + 1))
  })
  if (entries.length === 0) return
  const result = await runGit(['update-index', '-z', '--index-info'], {
    cwd: workTree,
    input: `${entries.join('\0')}\0`,
  })
  if (result.code !== 0) {
    throw new Error(`git update-index failed: ${result.stderr.trim().split('\n').at(-1) ?? ''}`)
  }
}
