import { createHash } from 'node:crypto'
import { type BigIntStats, type Dirent, lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fsError, hashFileSync, MlvcError } from '../core/index.ts'
import type { HashCache } from './hash-cache.ts'
import { toPosixRel } from './paths.ts'
import type { ExpRepo } from './repo.ts'
import { checkRepoLink } from './repofiles.ts'

/** A file stored in the experiment folder (meta.json, logs, ExpFiles). */
export interface FileEntry {
  name: string
  sha256: string
  size: number
}

/** A symlink to `.dbx/attach/SHA256-<sha256>`. */
export interface RepoFileEntry {
  name: string
  sha256: string
}

/**
 * One version of an experiment: what sync compares and copies. `hash` names the version: the
 * sha-256 of the path and of every entry (see versionHash), so a changed file, a new log line or a
 * move to another name is a new version.
 */
export interface ExpVersion {
  id: string
  path: string
  hash: string
  files: FileEntry[]
  repofiles: RepoFileEntry[]
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : 1)

export function versionHash(
  path: string,
  files: readonly FileEntry[],
  repofiles: readonly RepoFileEntry[],
): string {
  const hash = createHash('sha256').update(`dbx-version 1\npath ${path}\n`)
  for (const f of [...files].sort(byName)) hash.update(`file ${f.sha256} ${f.size} ${f.name}\n`)
  for (const r of [...repofiles].sort(byName)) hash.update(`repofile ${r.sha256} ${r.name}\n`)
  return hash.digest('hex')
}

export function makeVersion(
  id: string,
  path: string,
  files: FileEntry[],
  repofiles: RepoFileEntry[],
): ExpVersion {
  files.sort(byName)
  repofiles.sort(byName)
  return { id, path, hash: versionHash(path, files, repofiles), files, repofiles }
}

function hashCached(
  repo: ExpRepo,
  path: string,
  cache: HashCache | undefined,
): Omit<FileEntry, 'name'> {
  const rel = toPosixRel(repo.root, path)
  let info: BigIntStats
  try {
    info = lstatSync(path, { bigint: true })
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  const known = cache?.get(rel, info)
  if (known) return { sha256: known, size: Number(info.size) }
  const result = hashFileSync(path)
  if (BigInt(result.size) === info.size) cache?.set(rel, info, result.sha256)
  return result
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    throw fsError(err, 'listing', dir)
  }
}

function readLink(path: string): string {
  try {
    return readlinkSync(path)
  } catch (err) {
    throw fsError(err, 'reading link', path)
  }
}

/**
 * Reads an experiment folder into a version: regular files hashed (hidden names skipped: temporary
 * files and locks), symlinks checked to be RepoFiles. Anything else is refused. Synchronous inside
 * (see findExperimentDirs); unchanged files are not read again when a cache is given.
 */
export async function readVersion(
  repo: ExpRepo,
  exp: { id: string; path: string; dir: string },
  cache?: HashCache,
): Promise<ExpVersion> {
  const files: FileEntry[] = []
  const repofiles: RepoFileEntry[] = []
  const walk = (dir: string): void => {
    for (const entry of listDir(dir)) {
      if (entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      const name = toPosixRel(exp.dir, path)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) files.push({ ...hashCached(repo, path, cache), name })
      else if (entry.isSymbolicLink()) {
        repofiles.push({ name, sha256: checkRepoLink(repo, path, readLink(path)) })
      } else {
        throw new MlvcError('UNSAFE_PATH', `${path}: not a file, folder or RepoFile link`)
      }
    }
  }
  walk(exp.dir)
  return makeVersion(exp.id, exp.path, files, repofiles)
}

/** A symlink in an experiment: a RepoFile's sha-256, or why the link is refused. */
export interface LinkFound {
  name: string
  path: string
  sha256?: string
  error?: string
}

/** The symlinks of an experiment folder (nothing is hashed): for fetch, gc and fsck. */
export async function readLinks(repo: ExpRepo, dir: string): Promise<LinkFound[]> {
  const out: LinkFound[] = []
  const walk = (d: string): void => {
    for (const entry of listDir(d)) {
      if (entry.name.startsWith('.')) continue
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isSymbolicLink()) {
        const name = toPosixRel(dir, path)
        try {
          out.push({ name, path, sha256: checkRepoLink(repo, path, readLink(path)) })
        } catch (err) {
          out.push({ name, path, error: (err as Error).message })
        }
      }
    }
  }
  walk(dir)
  return out
}
