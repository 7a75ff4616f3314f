import type { Stats } from 'node:fs'
import { lineWriter, type Publisher, readLines } from './lines.ts'
import { comparePaths } from './manifest.ts'

/**
 * What add and checkout last saw of a file, so that status and add never re-read an unchanged
 * one: its size, mtime and inode, its sha-256 and its content id. Sorted by path, one line per
 * file, local (never committed). The ctime is left out on purpose: linking a cached file into a
 * second folder changes the ctime of every link.
 */
export interface StatRecord {
  path: string
  stamp: string
  sha256: string
  id: string
}

/** A file's identity for the cache: equal stamps mean an unchanged file. */
export function stampOf(stat: Stats): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ino}`
}

/** The records of a stat cache; a damaged line or order ends the cache there (it is only a cache). */
export function* readStatCache(file: string): Generator<StatRecord> {
  let previous: string | undefined
  for (const line of readLines(file, true)) {
    const [path, stamp, sha256, id, extra] = line.split('\t')
    if (!path || !stamp || !sha256 || !id || extra !== undefined) return
    if (previous !== undefined && comparePaths(previous, path) >= 0) return
    previous = path
    yield { path, stamp, sha256, id }
  }
}

export function statCacheWriter(file: string): Publisher & { write(record: StatRecord): void } {
  const out = lineWriter(file)
  return {
    write: (r: StatRecord) => out.write(`${r.path}\t${r.stamp}\t${r.sha256}\t${r.id}`),
    finish: () => out.finish(),
    abort: () => out.abort(),
  }
}
