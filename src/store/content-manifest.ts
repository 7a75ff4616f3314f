import type { DigestList } from './digest-list.ts'
import { chunkRefs, encodeBlobManifest, encodeManifest, type FilePart } from './manifest.ts'
import type { Store } from './store.ts'

/** Up to this many chunks (128 MiB of data), one flat blob manifest. */
const FLAT_LIMIT = 2048
const MIN_GROUP = 64
const MAX_GROUP = 4096

/**
 * Stores the manifest of a file's chunks and returns its id. A large file's chunk list is split
 * into part manifests at content-defined places — after a chunk whose digest starts with a zero
 * byte (one in 256, so about 256 chunks, 20 MiB, per part) — and listed by a file manifest. An
 * edit then rewrites only the parts around it: for a 1 GiB file, a few tens of KiB of manifests
 * instead of one of 1 MiB.
 */
export function putContentManifest(
  store: Store,
  size: number,
  sha256: string,
  chunks: DigestList,
): string {
  if (chunks.count <= FLAT_LIMIT)
    return store.putObject('manifest', encodeBlobManifest(size, sha256, chunks))
  const parts: FilePart[] = []
  let first = 0
  for (let i = 0; i < chunks.count; i++) {
    const length = i + 1 - first
    const boundary = (chunks.digest(i)[0] === 0 && length >= MIN_GROUP) || length >= MAX_GROUP
    if (!boundary && i < chunks.count - 1) continue
    const refs = chunkRefs(chunks, first, i + 1)
    const partSize = refs.reduce((sum, [, n]) => sum + n, 0)
    parts.push({
      ref: store.putObject(
        'manifest',
        encodeManifest({ type: 'part', size: partSize, chunks: refs }),
      ),
      size: partSize,
    })
    first = i + 1
  }
  return store.putObject(
    'manifest',
    encodeManifest({ type: 'file', size, sha256, parts, meta: null }),
  )
}
