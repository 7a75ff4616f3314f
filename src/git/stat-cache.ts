import type { BigIntStats } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireLock, fsError, isErrno, writeFileAtomic } from '../core/index.ts'

/**
 * Remembers, per work-tree path, the stub of the file as it was last cleaned or materialized and the
 * file's stat identity then. Git re-cleans a file whenever its stat data changes (`touch`, a
 * checkout); with this cache the filter answers without re-chunking:
 *  - identical stat (size, inode, mtime, ctime): the stub, without looking at the bytes;
 *  - same size and inode, newer times: the bytes are hashed (sha256 only) and compared.
 */
export interface StatEntry extends FileIdentity {
  sha256: string
  stub: string
  /**
   * Recorded within two seconds of the file's mtime: a write in the same clock tick could have
   * left the stat data unchanged, so the entry is only trusted after hashing (git's "racy" rule).
   */
  racy: boolean
}

/** Makes an entry for a file whose identity was taken now (see StatEntry.racy). */
export function statEntry(identity: FileIdentity, sha256: string, stub: string): StatEntry {
  const ageMs = Date.now() - Number(BigInt(identity.mtimeNs) / 1_000_000n)
  return { ...identity, sha256, stub, racy: ageMs < 2000 }
}

export interface FileIdentity {
  size: number
  ino: string
  mtimeNs: string
  ctimeNs: string
}

export interface StatCache {
  get(path: string): StatEntry | undefined
  set(path: string, entry: StatEntry): void
  delete(path: string): void
  /** Writes the changes (merged into what other processes wrote meanwhile). */
  save(): Promise<void>
}

/** The identity in stat data (of a regular file). */
export function identityOf(st: BigIntStats): FileIdentity {
  return {
    size: Number(st.size),
    ino: st.ino.toString(),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
  }
}

export async function fileIdentity(path: string): Promise<FileIdentity | undefined> {
  try {
    const st = await stat(path, { bigint: true })
    return st.isFile() ? identityOf(st) : undefined
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
    throw fsError(err, 'reading', path)
  }
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs
}

async function readCache(path: string): Promise<Record<string, StatEntry>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, StatEntry>)
      : {}
  } catch (err) {
    // A missing or damaged cache only costs re-hashing; it is never trusted for more than a hint.
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return {}
    throw fsError(err, 'reading', path)
  }
}

/** The cache of one work tree, kept in its git dir (`<gitdir>/mlvc-stat-cache.json`). */
export async function openStatCache(gitDir: string): Promise<StatCache> {
  const file = join(gitDir, 'mlvc-stat-cache.json')
  const entries = await readCache(file)
  const changed = new Map<string, StatEntry | undefined>()
  return {
    get: (path) => (Object.hasOwn(entries, path) ? entries[path] : undefined),
    set(path, entry) {
      entries[path] = entry
      changed.set(path, entry)
    },
    delete(path) {
      delete entries[path]
      changed.set(path, undefined)
    },
    async save() {
      if (changed.size === 0) return
      const lock = await acquireLock(`${file}.lock`, 'the mlvc stat cache', { waitMs: 10_000 })
      try {
        const current = await readCache(file)
        for (const [path, entry] of changed) {
          if (entry) current[path] = entry
          else delete current[path]
        }
        await writeFileAtomic(file, JSON.stringify(current), { fsync: false })
        changed.clear()
      } finally {
        await lock.release()
      }
    },
  }
}
