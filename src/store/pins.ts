import { readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fsError, isErrno } from '../core/index.ts'
import { parseId } from './cid.ts'
import type { Store } from './store.ts'

/** Pins are gc roots that outlive Git: `mlvc put` pins what it stores until `mlvc unpin`. */
export async function pin(store: Store, id: string): Promise<void> {
  parseId(id)
  const path = join(store.layout.pins, id)
  try {
    await writeFile(path, '')
  } catch (err) {
    throw fsError(err, 'pinning', path)
  }
}

/** Returns false if the id was not pinned. */
export async function unpin(store: Store, id: string): Promise<boolean> {
  parseId(id)
  try {
    await unlink(join(store.layout.pins, id))
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw fsError(err, 'unpinning', join(store.layout.pins, id))
  }
}

export async function listPins(store: Store): Promise<string[]> {
  try {
    return (await readdir(store.layout.pins)).filter((name) => !name.startsWith('.')).sort()
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw fsError(err, 'listing', store.layout.pins)
  }
}
