import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { keystream } from './keystream.ts'

/** The dataset: 100,000 files of 1–100 KiB (about 5 GB) in 1,000 folders. */
export const ENTITY_FILES = 100_000
const MIN = 1024
const MAX = 100 * 1024
/** Mean file size: sizes are uniform in [1 KiB, 100 KiB]. */
export const MEAN_FILE = (MIN + MAX) / 2

/**
 * How many files: MLVC_BENCH_ENTITY_FILES when set (the full 100,000 is run by hand), else as
 * many as --size holds at the mean size (5 GB: 100,000), at least 100.
 */
export function entityFileCount(size: number): number {
  const forced = Number(process.env.MLVC_BENCH_ENTITY_FILES)
  if (Number.isInteger(forced) && forced > 0) return forced
  return Math.max(100, Math.round(size / MEAN_FILE))
}

export interface EntityFile {
  path: string
  size: number
}

/** File i: folder i mod F (F = count / 100, at least 1), size from a fixed sequence. */
export function entityFiles(count: number): EntityFile[] {
  const folders = Math.max(1, Math.round(count / 100))
  const out: EntityFile[] = []
  let x = 0x9e3779b9
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    const size = MIN + (x % (MAX - MIN + 1))
    out.push({
      path: `d${String(i % folders).padStart(4, '0')}/f${String(i).padStart(6, '0')}.bin`,
      size,
    })
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/**
 * The dataset's first version, written once into `dataDir` (random bytes: nothing deduplicates
 * or compresses) and reused; returns its folder.
 */
export function entityDataset(dataDir: string, files: readonly EntityFile[]): string {
  const dir = join(dataDir, `entities-v1-${files.length}`)
  if (existsSync(dir)) return dir
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  const bytes = keystream(`entities-${files.length}`)
  const made = new Set<string>()
  for (const f of files) {
    const folder = f.path.slice(0, f.path.indexOf('/'))
    if (!made.has(folder)) mkdirSync(join(tmp, folder), { recursive: true })
    made.add(folder)
    writeFileSync(join(tmp, f.path), bytes(f.size))
  }
  renameSync(tmp, dir)
  return dir
}

/** New content for a changed or added file of the second version. */
export function newContent(seed: string, size: number): Buffer {
  return keystream(`entities-v2-${seed}`)(size)
}
