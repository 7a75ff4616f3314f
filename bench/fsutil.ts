import { closeSync, openSync, readSync } from 'node:fs'
import { copyFile, link, lstat, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { exec } from './proc.ts'

/**
 * Apparent size of a tree in bytes, like `du -sb`: every file, folder and symlink counted by its
 * st_size, hard links once. This is how measurements.md sized the peers' stores.
 */
export async function treeSize(root: string): Promise<number> {
  const seen = new Set<bigint>()
  async function visit(path: string): Promise<number> {
    const st = await lstat(path, { bigint: true })
    if (st.nlink > 1n) {
      if (seen.has(st.ino)) return 0
      seen.add(st.ino)
    }
    let total = Number(st.size)
    if (st.isDirectory()) {
      for (const name of await readdir(path)) total += await visit(join(path, name))
    }
    return total
  }
  return visit(root)
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}

/**
 * Removes a tree. git-annex makes its object folders read-only, which stops a non-root rm, so on
 * EACCES the tree is made writable first.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true })
  } catch (err) {
    if (!isCode(err, 'EACCES') && !isCode(err, 'EPERM')) throw err
    await exec({ file: 'chmod', args: ['-R', 'u+w', path] })
    await rm(path, { recursive: true, force: true })
  }
}

/** Reads a file once so that the timed run finds it in the page cache. */
export function warmFile(path: string): void {
  const buffer = Buffer.allocUnsafe(8 << 20)
  const fd = openSync(path, 'r')
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0) {}
  } finally {
    closeSync(fd)
  }
}

/**
 * Puts a data file into a work tree. `link` shares the inode (no copy; only for tools that do not
 * modify or move their input); `copy` for tools that do (git annex add moves it and drops write
 * permission).
 */
export async function placeFile(src: string, dst: string, how: 'link' | 'copy'): Promise<void> {
  await rm(dst, { force: true })
  if (how === 'link') await link(src, dst)
  else await copyFile(src, dst)
}

/** Flushes dirty pages (the previous run's writes) so they do not land in the next timed run. */
export async function syncDisks(): Promise<void> {
  await exec({ file: 'sync', args: [] })
}
