import { createHash } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Expected } from './content.ts'

export const MiB = 2 ** 20
/** The "1,000 tracked files of 1 MiB". */
export const SMALL_FILES = 1000

/** How many 1 MiB files: 1,000, or fewer when the input (--size) is smaller than 1,000 MiB. */
export function smallFileCount(size: number): number {
  return Math.max(1, Math.min(SMALL_FILES, Math.floor(size / MiB)))
}

/** `files/f0000.bin` … : a folder of many files, as a dataset would be. */
export function smallFileName(index: number): string {
  return `files/f${String(index).padStart(4, '0')}.bin`
}

export interface WrittenFile extends Expected {
  name: string
}

/**
 * Writes `count` files of `size` bytes (1 MiB) into `dir`, each a different slice of `source` (so
 * nothing deduplicates), and returns their names and hashes.
 */
export function writeSmallFiles(
  source: string,
  dir: string,
  count: number,
  size = MiB,
): WrittenFile[] {
  const buffer = Buffer.allocUnsafe(size)
  const fd = openSync(source, 'r')
  const files: WrittenFile[] = []
  try {
    for (let i = 0; i < count; i++) {
      const n = readSync(fd, buffer, 0, size, i * size)
      if (n !== size) throw new Error(`${source} is too short for ${count} files of ${size} bytes`)
      const name = smallFileName(i)
      mkdirSync(dirname(join(dir, name)), { recursive: true })
      writeFileSync(join(dir, name), buffer)
      files.push({ name, size, sha256: createHash('sha256').update(buffer).digest('hex') })
    }
  } finally {
    closeSync(fd)
  }
  return files
}
