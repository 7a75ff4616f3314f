import { unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { fsError, isErrno, MlvcError } from './errors.ts'
import { readTextIfExists } from './read.ts'

export interface Lock {
  release(): Promise<void>
}

/** True while a process with this pid exists on this host. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return isErrno(err, 'EPERM')
  }
}

async function readOwner(path: string): Promise<{ pid: number; host: string } | undefined> {
  const text = await readTextIfExists(path, 'reading lock')
  if (text === undefined) return undefined
  const [pid, host] = text.split(' ')
  return { pid: Number(pid), host: host?.trim() ?? '' }
}

export interface LockOptions {
  /** How long to wait for a live owner to release the lock. @default 0 (fail at once) */
  waitMs?: number
}

/**
 * Takes an exclusive lock by creating `path` (O_EXCL). A lock left by a dead process on this host is
 * broken and taken over; a live one is waited for up to `waitMs`, then fails with LOCKED naming
 * the owner.
 */
export async function acquireLock(
  path: string,
  what: string,
  options: LockOptions = {},
): Promise<Lock> {
  const deadline = Date.now() + (options.waitMs ?? 0)
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid} ${hostname()}\n`, { flag: 'wx' })
      return { release: () => unlink(path).catch(() => undefined) }
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw fsError(err, 'creating lock', path)
    }
    const owner = await readOwner(path)
    if (owner && (owner.host !== hostname() || isAlive(owner.pid))) {
      if (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * 2 ** attempt)))
        continue
      }
      throw new MlvcError('LOCKED', `${what} is locked by process ${owner.pid} on ${owner.host}`, {
        hint: `wait for it to finish; if no such process runs, delete ${path}`,
      })
    }
    await unlink(path).catch(() => undefined)
  }
}
