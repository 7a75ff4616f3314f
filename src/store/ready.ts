import { renameSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { isErrno } from '../core/index.ts'
import type { Store } from './store.ts'

/**
 * Files that already hold an object's content: a command that wrote a file and stored it from
 * that very file (a merge) leaves it here, and the next materialization of that id moves it into
 * place instead of rebuilding it from the packs. The store's chunk ids and sha-256 were computed
 * from these bytes, and nothing else writes to the store's tmp folder. A file nobody claims is
 * removed by gc after the grace period, like every temporary file.
 */
export function readyPath(store: Store, id: string): string {
  return join(store.layout.tmp, `ready-${id}`)
}

/** Leaves `file` (in the store's tmp folder) as the ready content of `id`. */
export function offerReady(store: Store, id: string, file: string): void {
  renameSync(file, readyPath(store, id))
}

/**
 * The ready file of `id` if there is one of `size` bytes, taken out of the ready set (the caller
 * moves it); undefined otherwise. Concurrent claims of one id: one wins, the others get undefined.
 */
export function claimReady(store: Store, id: string, size: number): string | undefined {
  const ready = readyPath(store, id)
  const claimed = join(store.layout.tmp, `claimed-${process.pid}-${id}`)
  try {
    renameSync(ready, claimed)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw err
  }
  if (statSync(claimed).size === size) return claimed
  unlinkSync(claimed)
  return undefined
}

/** Removes the ready file of `id`, if any (its content was produced another way). */
export function dropReady(store: Store, id: string): void {
  rmSync(readyPath(store, id), { force: true })
}
