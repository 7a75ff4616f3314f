import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fsError, isErrno, uniqueName, writeAllSync } from '../core/index.ts'

const BLOCK = 1024 * 1024

/**
 * The lines of a text file, streamed in 1 MiB blocks (a manifest of a million files is never
 * held whole). Nothing when the file does not exist and `missingOk`.
 */
export function* readLines(path: string, missingOk = false): Generator<string> {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    if (missingOk && isErrno(err, 'ENOENT')) return
    throw fsError(err, 'reading', path)
  }
  try {
    const block = Buffer.allocUnsafe(BLOCK)
    let rest = ''
    for (;;) {
      const n = readSync(fd, block, 0, BLOCK, null)
      if (n === 0) break
      // A multi-byte character split across blocks stays whole: cut only after the last newline.
      const last = block.lastIndexOf(10, n - 1)
      if (last < 0) {
        rest += block.toString('utf8', 0, n)
        continue
      }
      const text = rest + block.toString('utf8', 0, last)
      const parts = text.split('\n')
      for (const line of parts) yield line
      rest = block.toString('utf8', last + 1, n)
    }
    if (rest !== '') yield rest
  } finally {
    closeSync(fd)
  }
}

/** A text file written line by line through a buffer, published atomically by `finish`. */
export interface LineWriter extends Publisher {
  write(line: string): void
}

/** A file being written: published atomically by `finish`, or removed by `abort`. */
export interface Publisher {
  /** Writes the rest, fsyncs (when asked) and renames the file into place. */
  finish(): void
  /** Removes the temporary file (after a failure); safe to call after finish. */
  abort(): void
}

export function lineWriter(path: string, options: { fsync?: boolean } = {}): LineWriter {
  ensureDirSync(dirname(path))
  const tmp = join(dirname(path), `.${basename(path)}.${uniqueName('tmp')}`)
  let fd: number | undefined = openSync(tmp, 'wx')
  let chunks: string[] = []
  let size = 0
  const flush = () => {
    if (fd === undefined || chunks.length === 0) return
    writeAllSync(fd, Buffer.from(chunks.join('')))
    chunks = []
    size = 0
  }
  return {
    write(line) {
      chunks.push(line, '\n')
      size += line.length + 1
      if (size >= BLOCK) flush()
    },
    finish() {
      flush()
      if (fd === undefined) return
      if (options.fsync) fsyncSync(fd)
      closeSync(fd)
      fd = undefined
      renameSync(tmp, path)
    },
    abort() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
      rmSync(tmp, { force: true })
    },
  }
}

function ensureDirSync(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw fsError(err, 'creating', dir)
  }
}
