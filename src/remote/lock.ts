import { hostname } from 'node:os'
import { MlvcError, uniqueName } from '../core/index.ts'
import type { Remote } from './remote.ts'

/**
 * Locks on a remote, as restic does it: pushes take shared locks (`locks/push-<unique>.json`), gc
 * an exclusive one (`locks/gc.json`, created only if absent). Each side takes its own lock first
 * and then looks for the other's, so of a push and a gc that start together at least one sees the
 * other and stops: gc never deletes what a running push relies on. A lock older than `staleMs`
 * (its holder was killed) is ignored and removed.
 */
export const LOCKS_PREFIX = 'locks/'
const GC_LOCK = `${LOCKS_PREFIX}gc.json`
export const LOCK_STALE_MS = 3600_000

export interface RemoteLock {
  release(): Promise<void>
}

function body(kind: string): string {
  return `${JSON.stringify({ kind, pid: process.pid, host: hostname(), time: new Date().toISOString() })}\n`
}

function live(info: { modified?: Date | undefined }, staleMs: number): boolean {
  return info.modified === undefined || Date.now() - info.modified.getTime() < staleMs
}

/** Takes a shared lock for a push; LOCKED while a gc runs on the remote. */
export async function lockForPush(remote: Remote, staleMs = LOCK_STALE_MS): Promise<RemoteLock> {
  const key = `${LOCKS_PREFIX}${uniqueName('push')}.json`
  await remote.put(key, body('push'))
  const release = () => remote.delete(key).catch(() => undefined)
  const gc = await remote.head(GC_LOCK)
  if (gc && live(gc, staleMs)) {
    await release()
    throw new MlvcError(
      'LOCKED',
      `remote ${remote.name} is being garbage-collected (mlvc gc --remote)`,
      {
        hint: 'push again when it is done; nothing was sent',
      },
    )
  }
  return { release: async () => void (await release()) }
}

/** Takes the exclusive gc lock; LOCKED while another gc or any push runs on the remote. */
export async function lockForGc(remote: Remote, staleMs = LOCK_STALE_MS): Promise<RemoteLock> {
  let created = await remote.create(GC_LOCK, body('gc'))
  if (!created) {
    const held = await remote.head(GC_LOCK)
    if (held && live(held, staleMs)) {
      throw new MlvcError('LOCKED', `remote ${remote.name}: another gc is running`, {
        hint: `wait for it; if none runs, the lock expires after ${staleMs / 60_000} minutes`,
      })
    }
    await remote.delete(GC_LOCK)
    created = await remote.create(GC_LOCK, body('gc'))
    if (!created) throw new MlvcError('LOCKED', `remote ${remote.name}: another gc is running`)
  }
  const release = async () => {
    await remote.delete(GC_LOCK).catch(() => undefined)
  }
  for await (const info of remote.list(LOCKS_PREFIX)) {
    if (!info.key.startsWith(`${LOCKS_PREFIX}push-`)) continue
    if (live(info, staleMs)) {
      await release()
      throw new MlvcError('LOCKED', `remote ${remote.name}: a push is running`, {
        hint: 'run gc again when it is done',
      })
    }
    await remote.delete(info.key).catch(() => undefined)
  }
  return { release }
}
