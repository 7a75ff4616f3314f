import type { BigIntStats } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, writeFileAtomic } from '../core/index.ts'
import { DBX, type ExpRepo } from './repo.ts'

/**
 * Remembers file hashes by (size, mtime in ns, inode) so that a second sync does not read every log
 * again. A file modified less than RACY_MS before it was hashed is not remembered: a later write
 * within the same clock tick would leave its mtime unchanged.
 */
export interface HashCache {
  get(path: string, info: BigIntStats): string | undefined
  set(path: string, info: BigIntStats, sha256: string): void
  save(): Promise<void>
}

const RACY_MS = 2000n
const VERSION = 1

function key(info: BigIntStats): string {
  return `${info.size}:${info.mtimeNs}:${info.ino}`
}

export async function loadHashCache(repo: ExpRepo): Promise<HashCache> {
  const file = join(repo.dbx, DBX.cache, 'hashes.json')
  let entries: Record<string, [string, string]> = {}
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as {
      v?: number
      entries?: Record<string, [string, string]>
    }
    if (parsed.v === VERSION && parsed.entries) entries = parsed.entries
  } catch {
    // A missing or damaged cache only costs rehashing.
  }
  const fresh: Record<string, [string, string]> = {}
  let changed = false
  return {
    get(path, info) {
      const hit = entries[path]
      if (!hit || hit[0] !== key(info)) return undefined
      fresh[path] = hit
      return hit[1]
    },
    set(path, info, sha256) {
      changed = true
      const now = BigInt(Date.now()) * 1_000_000n
      if (now - info.mtimeNs < RACY_MS * 1_000_000n) return
      fresh[path] = [key(info), sha256]
    },
    async save() {
      if (!changed && Object.keys(fresh).length === Object.keys(entries).length) return
      await ensureDir(join(repo.dbx, DBX.cache))
      await writeFileAtomic(file, JSON.stringify({ v: VERSION, entries: fresh }), { fsync: false })
    },
  }
}
