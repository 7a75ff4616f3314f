import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** sha256 of a file, read in 8 MiB blocks. */
export function sha256File(path: string): string {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(8 << 20)
  const fd = openSync(path, 'r')
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, n))
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

export interface Expected {
  size: number
  sha256: string
}

export function expectedOf(path: string, size: number): Expected {
  return { size, sha256: sha256File(path) }
}

/**
 * Throws unless `path` holds exactly the expected bytes: a checkout that left a stub or a pointer
 * would otherwise be timed as a fast one.
 */
export async function checkContent(path: string, expected: Expected, what: string): Promise<void> {
  const { size } = await stat(path)
  if (size !== expected.size) {
    throw new Error(`${what}: ${path} has ${size} bytes, expected ${expected.size}`)
  }
  if (sha256File(path) !== expected.sha256) {
    throw new Error(`${what}: ${path} does not have the content that was added`)
  }
}

/**
 * Reads files once so that a timed command finds them in the page cache, with one buffer for all
 * (a store of 1,000 small objects would otherwise allocate 1,000 read buffers).
 */
export function warmFiles(paths: readonly string[]): void {
  const buffer = Buffer.allocUnsafe(8 << 20)
  for (const path of paths) {
    const fd = openSync(path, 'r')
    try {
      while (readSync(fd, buffer) > 0) {}
    } finally {
      closeSync(fd)
    }
  }
}

/** Every regular file under `dir` (for warming a store into the page cache). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name))
  }
  return out
}
