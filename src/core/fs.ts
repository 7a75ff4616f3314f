import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs'
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { fsError, isErrno } from './errors.ts'
import { checkWriteTarget, placeFile, type ReplaceRule } from './target.ts'

/** Random for this process and thread (drawn once: a draw per name costs a system call). */
const nameSeed = randomBytes(6).toString('hex')
let nameCount = 0

/**
 * A name no other process or thread will pick: pid, thread, 48 random bits drawn when the module
 * loaded (a reused pid gets other ones) and a count.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${threadId}-${nameSeed}${(nameCount++).toString(36)}`
}

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the folder after it. @default true */
  fsync?: boolean
  /** Folder for the temporary file; must be on the same file system. @default the target's folder */
  tmpDir?: string
  /** What may be at `path` already (see ReplaceRule); a user-named path wants 'file'. @default 'any' */
  replace?: ReplaceRule
}

/**
 * Writes `data` to `path` so that readers see either the old content or the whole new one, never a
 * part: temp file, fsync, rename.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = join(options.tmpDir ?? dirname(path), `.${uniqueName('tmp')}`)
  const rule = options.replace ?? 'any'
  checkWriteTarget(path, rule)
  try {
    const handle = await open(tmp, 'wx')
    try {
      await handle.writeFile(data)
      if (options.fsync !== false) await handle.sync()
    } finally {
      await handle.close()
    }
    placeFile(tmp, path, rule)
  } catch (err) {
    await rm(tmp, { force: true })
    throw fsError(err, 'writing', path)
  }
  if (options.fsync !== false) await fsyncDir(dirname(path))
}

/** Synchronous twin of writeFileAtomic, for exit paths where nothing async may run. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${uniqueName('tmp')}`)
  try {
    const fd = openSync(tmp, 'wx')
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw fsError(err, 'writing', path)
  }
}

/** Makes a rename or a new file in `dir` durable. Some file systems refuse fsync on folders. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    if (!isErrno(err, 'EISDIR') && !isErrno(err, 'EINVAL') && !isErrno(err, 'EBADF')) {
      throw fsError(err, 'syncing folder', dir)
    }
  }
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw fsError(err, 'creating folder', dir)
  }
}

/** writeSync until every byte is written (a regular file may take a write in parts). */
export function writeAllSync(fd: number, data: Uint8Array, position?: number): void {
  let done = 0
  while (done < data.length) {
    const at = position === undefined ? null : position + done
    done += writeSync(fd, data, done, data.length - done, at)
  }
}

/**
 * writevSync at `position` until every byte is written: a full disk shows up as a short write first
 * and as ENOSPC only on the next call.
 */
export function writevAllSync(fd: number, pieces: readonly Uint8Array[], position: number): number {
  let done = writevSync(fd, pieces as Uint8Array[], position)
  let offset = 0
  for (const piece of pieces) {
    const end = offset + piece.length
    if (done < end) {
      const from = Math.max(done, offset)
      writeAllSync(fd, piece.subarray(from - offset), position + from)
      done = end
    }
    offset = end
  }
  return done
}

/**
 * Reads into `target` at `position` until it is full or the file ends; returns the bytes read
 * (fewer than `target.length` only at the end of the file).
 */
export function readFullSync(fd: number, target: Uint8Array, position: number): number {
  let done = 0
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}

/** readFullSync for a FileHandle. */
export async function readFull(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}
