import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fsError } from '../core/index.ts'

/**
 * The store's folders:
 *   packs/pack-<name>.pack  append-only; only the process that created a pack appends to it
 *   packs/pack-<name>.idx   what the pack holds; rewritten atomically after each commit
 *   pins/<id>               roots kept by gc (mlvc put pins what it stores)
 *   tmp/                    temporary files (same file system, for atomic renames)
 *   locks/                  gc.lock
 *   damaged/<id>            objects a read found damaged, until a good copy replaces them (damage.ts)
 *   VERSION                 "mlvc-store 2" (packs of format 2, with encoded records; see pack-format.ts)
 */
export interface StoreLayout {
  root: string
  packs: string
  pins: string
  tmp: string
  locks: string
  version: string
}

export const STORE_VERSION = 'mlvc-store 2'
/**
 * Stores of version 1 hold packs of format 1 only; they are read as they are, and marked version 2
 * when this mlvc first writes to them, so that an older mlvc refuses them instead of taking the
 * new packs for damaged ones.
 */
export const STORE_VERSION_1 = 'mlvc-store 1'

export function storeLayout(root: string): StoreLayout {
  return {
    root,
    packs: join(root, 'packs'),
    pins: join(root, 'pins'),
    tmp: join(root, 'tmp'),
    locks: join(root, 'locks'),
    version: join(root, 'VERSION'),
  }
}

export function packFilePath(layout: StoreLayout, name: string): string {
  return join(layout.packs, `${name}.pack`)
}

export function idxFilePath(layout: StoreLayout, name: string): string {
  return join(layout.packs, `${name}.idx`)
}

export interface PackFiles {
  /** Packs with an index: committed. */
  indexed: string[]
  /** Packs without one: being written, or left by an interrupted write. */
  unindexed: string[]
}

export async function listPackFiles(layout: StoreLayout): Promise<PackFiles> {
  let files: string[]
  try {
    files = await readdir(layout.packs)
  } catch (err) {
    throw fsError(err, 'listing', layout.packs)
  }
  const present = new Set(files)
  const indexed: string[] = []
  const unindexed: string[] = []
  for (const file of files.sort()) {
    if (!file.endsWith('.pack')) continue
    const name = file.slice(0, -5)
    ;(present.has(`${name}.idx`) ? indexed : unindexed).push(name)
  }
  return { indexed, unindexed }
}
