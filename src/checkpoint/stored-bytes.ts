import { closure, type Store } from '../store/index.ts'
import type { CheckpointVersion } from './version.ts'

/**
 * Bytes of the objects (chunks, deltas, manifests) that the files `after` need and the files
 * `before` do not: what storing the new version cost on top of the old one. Undefined when the
 * store does not hold both versions whole (then what they share cannot be known).
 */
export async function addedBytes(
  store: Store,
  after: readonly string[],
  before: readonly string[],
): Promise<number | undefined> {
  const next = await closure(store, after)
  if (next.missing.length > 0) return undefined
  const previous = await closure(store, before)
  if (previous.missing.length > 0) return undefined
  let total = 0
  for (const [key, ref] of next.objects) {
    if (!previous.objects.has(key)) total += store.lookup(ref.digest)?.length ?? 0
  }
  return total
}

/**
 * From the tensor tables alone: the bytes of the new version's tensors whose content the old
 * version does not have — what storing it would cost before deltas and deduplication with other
 * versions (an estimate, usually an upper bound; headers are left out). Undefined when a content
 * id or size is unknown.
 */
export function newTensorBytes(
  before: CheckpointVersion | undefined,
  after: CheckpointVersion,
): number | undefined {
  const old = new Set(before?.tensors.map((t) => t.content))
  const counted = new Set<string>()
  let total = 0
  for (const t of after.tensors) {
    if (t.content === undefined || t.bytes === undefined) return undefined
    if (old.has(t.content) || counted.has(t.content)) continue
    counted.add(t.content)
    total += t.bytes
  }
  return total
}
