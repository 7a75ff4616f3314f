import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fsError, isErrno, MlvcError } from '../core/index.ts'
import { formatLogLine } from './dbx-json.ts'

/**
 * Lines up to this many bytes go to the file in one write(2) on an O_APPEND descriptor and need no
 * lock: the kernel places each such write at the end of the file as one piece (on Linux local file
 * systems the inode lock covers the whole write; PIPE_BUF, 4096, is the size POSIX promises for
 * pipes and the one we rely on). Longer lines also take `.<file>.lock` so that two long lines cannot
 * interleave on file systems that split large writes.
 */
export const ATOMIC_LINE = 4096
const LOCK_WAIT_MS = 10_000

export interface LogWriter {
  readonly path: string
  /** Appends one event. Synchronous: when it returns, the line is in the file. */
  write(event: string, values?: Record<string, unknown>): void
  close(): void
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}

function lockOwnerDead(lock: string): boolean {
  try {
    const [pid, host] = readFileSync(lock, 'utf8').trim().split(' ')
    if (host !== hostname()) return false
    process.kill(Number(pid), 0)
    return false
  } catch (err) {
    return isErrno(err, 'ESRCH')
  }
}

function withLineLock<T>(path: string, fn: () => T): T {
  const lock = join(dirname(path), `.${basename(path)}.lock`)
  const deadline = Date.now() + LOCK_WAIT_MS
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    try {
      const fd = openSync(lock, 'wx')
      writeSync(fd, `${process.pid} ${hostname()}\n`)
      closeSync(fd)
      break
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw fsError(err, 'locking', lock)
    }
    if (lockOwnerDead(lock)) unlinkSync(lock)
    else if (Date.now() > deadline) {
      throw new MlvcError('LOCKED', `${path}: waited ${LOCK_WAIT_MS / 1000}s for ${lock}`, {
        hint: 'another process holds it; if none does, delete the lock file',
      })
    } else sleepSync(wait)
  }
  try {
    return fn()
  } finally {
    try {
      unlinkSync(lock)
    } catch {}
  }
}

function appendOnce(fd: number, path: string, data: Buffer): void {
  let written: number
  try {
    written = writeSync(fd, data)
  } catch (err) {
    throw fsError(err, 'appending to', path)
  }
  if (written !== data.length) {
    throw new MlvcError(
      'IO',
      `${path}: only ${written} of ${data.length} bytes of a line were written`,
      {
        hint: 'the disk may be full; the log now ends with a cut-off line, which readers skip',
      },
    )
  }
}

/** Opens (creating) a log file for appending lines from this and other processes at once. */
export function openLogWriter(path: string): LogWriter {
  let fd: number | undefined
  try {
    fd = openSync(path, 'a')
  } catch (err) {
    throw fsError(err, 'opening', path)
  }
  return {
    path,
    write(event, values = {}) {
      if (fd === undefined) throw new MlvcError('USAGE', `${path}: the log is closed`)
      const data = Buffer.from(`${formatLogLine(event, values)}\n`)
      const open = fd
      if (data.length <= ATOMIC_LINE) appendOnce(open, path, data)
      else withLineLock(path, () => appendOnce(open, path, data))
    },
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}
