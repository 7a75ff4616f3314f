import { closeSync, fstatSync, openSync } from 'node:fs'
import { lstat, readdir, readFile } from 'node:fs/promises'
import { fileError, fsError, isErrno } from './errors.ts'

/**
 * A file's text, or undefined when it does not exist; any other failure is an error naming the
 * file after `action` (`reading config PATH: permission denied`).
 */
export async function readTextIfExists(
  path: string,
  action = 'reading',
): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw fsError(err, action, path)
  }
}

/** A folder's entry names; none when the folder does not exist. */
export async function listDirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw fsError(err, 'listing', dir)
  }
}

/** Whether anything (a file, folder or link, followed or not) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw fsError(err, 'reading', path)
  }
}

/** A file open for reading (see openForReading); the caller closes `fd`. */
export interface OpenFile {
  fd: number
  /** The size when it was opened. */
  size: number
}

/**
 * Opens a file to read it: NOT_FOUND, PERMISSION … naming it when it cannot be opened, USAGE when
 * it is a folder (which opens, and fails only at the first read). Nothing stays open on failure.
 */
export function openForReading(path: string): OpenFile {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw fileError('USAGE', path, 'is a directory')
    return { fd, size: stat.size }
  } catch (err) {
    closeSync(fd)
    throw fsError(err, 'reading', path)
  }
}

/** Runs `task` with the file open for reading (see openForReading), and closes it after. */
export async function withFileForReading<T>(
  path: string,
  task: (file: OpenFile) => Promise<T>,
): Promise<T> {
  const file = openForReading(path)
  try {
    return await task(file)
  } finally {
    closeSync(file.fd)
  }
}
