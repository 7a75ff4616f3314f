import { hex, parseId } from './cid.ts'
import { decodeManifest, manifestReferences } from './manifest.ts'
import type { Store } from './store.ts'

export interface ObjectRef {
  id: string
  digest: Uint8Array
}

export interface Closure {
  /** Every object the roots need (manifests and chunks), by hex digest. */
  objects: Map<string, ObjectRef>
  /** Objects not in the store; for a missing manifest, what it references is unknown yet. */
  missing: ObjectRef[]
}

/**
 * Everything the given manifests need, following references through part, delta and file
 * manifests as far as the store holds them.
 */
export async function closure(store: Store, roots: Iterable<string>): Promise<Closure> {
  const objects = new Map<string, ObjectRef>()
  const missing: ObjectRef[] = []
  const stack = [...roots]
  while (stack.length > 0) {
    const id = stack.pop() as string
    const { kind, digest } = parseId(id)
    const key = hex(digest)
    if (objects.has(key)) continue
    const ref = { id, digest }
    objects.set(key, ref)
    if (!store.lookup(digest)) {
      missing.push(ref)
      continue
    }
    if (kind !== 'manifest') continue
    // A checkpoint's file manifest may reference 200,000 parts: no spread into a call.
    for (const next of manifestReferences(decodeManifest(await store.readObject(id), id)))
      stack.push(next)
  }
  return { objects, missing }
}

/** True when the manifest and everything it needs are in the store. */
export async function isComplete(store: Store, id: string): Promise<boolean> {
  if (!(await store.has(id))) return false
  return (await closure(store, [id])).missing.length === 0
}
