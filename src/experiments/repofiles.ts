import { lstat, mkdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import {
  ensureDir,
  type FileHash,
  fsError,
  isErrno,
  listDirIfExists,
  MlvcError,
  pathExists,
  uniqueName,
} from '../core/index.ts'
import { isInside } from './paths.ts'
import { DBX, type ExpRepo, repoFileStore } from './repo.ts'

const NAME = /^SHA256-([0-9a-f]{64})$/

export function repoFileName(sha256: string): string {
  return `SHA256-${sha256}`
}

/** The sha-256 a RepoFile's name carries, or undefined if it is not `SHA256-<64 hex>`. */
export function parseRepoFileName(name: string): string | undefined {
  return NAME.exec(name)?.[1]
}

export function attachDir(repo: ExpRepo): string {
  return join(repo.dbx, DBX.attach)
}

/** `.dbx/attach/SHA256-<hex>`: the path experiments link to (itself a link with a named root). */
export function attachPath(repo: ExpRepo, sha256: string): string {
  return join(attachDir(repo), repoFileName(sha256))
}

/**
 * Checks a symlink found in an experiment: it must point, lexically, at `.dbx/attach/SHA256-<hex>`
 * of this repository. Returns the hex; UNSAFE_PATH names the link otherwise.
 */
export function checkRepoLink(repo: ExpRepo, link: string, target: string): string {
  const resolved = resolve(dirname(link), target)
  const sha256 = parseRepoFileName(basename(resolved))
  if (sha256 === undefined || dirname(resolved) !== attachDir(repo)) {
    throw new MlvcError(
      'UNSAFE_PATH',
      `${link}: symlink to ${target} does not point at a RepoFile in ${attachDir(repo)}`,
      {
        hint: 'only links to .dbx/attach/SHA256-<hex> are RepoFiles; move the file into the experiment or attach it',
      },
    )
  }
  return sha256
}

/** The relative link target from `link` to the RepoFile (what experiments store). */
export function repoLinkTarget(repo: ExpRepo, link: string, sha256: string): string {
  return relative(dirname(link), attachPath(repo, sha256))
}

/** Replaces `link` by a symlink to `target` in one rename. */
export async function symlinkAtomic(target: string, link: string): Promise<void> {
  const tmp = join(dirname(link), `.${uniqueName('link')}`)
  try {
    await symlink(target, tmp)
    await rename(tmp, link)
  } catch (err) {
    await rm(tmp, { force: true })
    throw fsError(err, 'linking', link)
  }
}

/**
 * Whether a RepoFile's bytes are on this machine. An attach/ entry that is a link must lead into
 * the configured storage root.
 */
export async function hasRepoFile(repo: ExpRepo, sha256: string): Promise<boolean> {
  const path = attachPath(repo, sha256)
  let info: import('node:fs').Stats
  try {
    info = await lstat(path)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw fsError(err, 'reading', path)
  }
  if (info.isFile()) return true
  if (!info.isSymbolicLink()) return false
  const target = resolve(dirname(path), await readlink(path))
  if (!isInside(repoFileStore(repo), target)) {
    throw new MlvcError('UNSAFE_PATH', `${path}: links to ${target}, outside the RepoFile storage`)
  }
  try {
    return (await stat(target)).isFile()
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw fsError(err, 'reading', target)
  }
}

/** Every RepoFile present on this machine. */
export async function listRepoFiles(repo: ExpRepo): Promise<Set<string>> {
  const names = await listDirIfExists(attachDir(repo))
  const out = new Set<string>()
  for (const name of names) {
    const sha256 = parseRepoFileName(name)
    if (sha256 !== undefined && (await hasRepoFile(repo, sha256))) out.add(sha256)
  }
  return out
}

/**
 * Stores a RepoFile: `fill` writes the bytes to a new temporary file in the storage folder and
 * returns their hash, which must equal `expected` when given; the file is then renamed to
 * `SHA256-<hex>` (dropped if that exists: same name, same bytes). With a named storage root,
 * `.dbx/attach/SHA256-<hex>` becomes a link to the file there.
 */
export async function putRepoFile(
  repo: ExpRepo,
  fill: (tmp: string) => Promise<FileHash>,
  expected?: string,
): Promise<FileHash> {
  const dir = repoFileStore(repo)
  await ensureDir(dir)
  const tmp = join(dir, `.${uniqueName('incoming')}`)
  let result: FileHash
  try {
    result = await fill(tmp)
    if (expected !== undefined && result.sha256 !== expected) {
      throw new MlvcError(
        'CORRUPT',
        `RepoFile ${repoFileName(expected)}: the bytes received hash to ${result.sha256}`,
        { hint: 'the copy it came from is damaged; run mlvc exp fsck there' },
      )
    }
    const final = join(dir, repoFileName(result.sha256))
    if (await pathExists(final)) await rm(tmp, { force: true })
    else await rename(tmp, final)
    if (dir !== attachDir(repo)) {
      await mkdir(attachDir(repo), { recursive: true })
      await symlinkAtomic(final, attachPath(repo, result.sha256))
    }
  } catch (err) {
    await rm(tmp, { force: true })
    throw fsError(err, 'storing RepoFile in', dir)
  }
  return result
}
