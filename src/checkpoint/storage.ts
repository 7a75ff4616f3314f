import { type ChunkRef, parseId, readChunk, readManifest, type Store } from '../store/index.ts'
import { lowRankHeader } from '../tensors/index.ts'

/**
 * How a tensor's bytes are kept in the store: its own chunks, a sparse delta against an earlier
 * version, or a low-rank delta (factors plus an exact residual). `stored` is what its own objects
 * take in the store's packs (after compression), not counting the base a delta rebuilds from.
 */
export type TensorStorage =
  | { kind: 'chunks'; chunks: number; stored: number }
  /** A tensor under 1 KiB, in the file's own chunks with the bytes around it (not a part). */
  | { kind: 'inline'; stored: number }
  | { kind: 'delta'; depth: number; stored: number }
  | { kind: 'low-rank'; rank: number; residuals: number; depth: number; stored: number }

function storedBytes(store: Store, refs: readonly ChunkRef[]): number {
  let total = 0
  for (const [id, size] of refs) total += store.lookup(parseId(id).digest)?.length ?? size
  return total
}

async function partStorage(
  store: Store,
  ref: string,
): Promise<[string, TensorStorage] | undefined> {
  const manifest = await readManifest(store, ref)
  if (manifest.type === 'part' || manifest.type === 'blob')
    return [
      ref,
      {
        kind: 'chunks',
        chunks: manifest.chunks.length,
        stored: storedBytes(store, manifest.chunks),
      },
    ]
  if (manifest.type !== 'delta') return undefined
  const stored = storedBytes(store, manifest.patch)
  const first = manifest.patch[0]
  const here = first && store.lookup(parseId(first[0]).digest) !== undefined
  const header = first && here ? lowRankHeader(readChunk(store, first).subarray(0, 48)) : undefined
  const storage: TensorStorage = header
    ? {
        kind: 'low-rank',
        rank: header.rank,
        residuals: header.residuals,
        depth: manifest.depth,
        stored,
      }
    : { kind: 'delta', depth: manifest.depth, stored }
  // A delta is named by the content it rebuilds (the part it would be stored whole as).
  return [manifest.content, storage]
}

/**
 * How the tensors of stored checkpoint files are kept: `parts` by the tensor's content id (a part of
 * the file's manifest, stored whole or as a delta; a one-chunk tensor is named by its chunk).
 * `held` says whether the store has the files at all (a clone without the data has no storage to
 * tell).
 */
export interface FileStorage {
  held: boolean
  parts: Map<string, TensorStorage>
}

/**
 * How a tensor is stored: its part, or inline when its file is held and it is not a part of it
 * (a tensor under 1 KiB: its `bytes` are in the file's own chunks).
 */
export function storageOf(
  storage: FileStorage,
  content: string | null | undefined,
  bytes: number | null,
): TensorStorage | undefined {
  if (!content) return undefined
  const part = storage.parts.get(content)
  if (part || !storage.held) return part
  return { kind: 'inline', stored: bytes ?? 0 }
}

/** The storage of the tensors of a checkpoint file stored in `store` (its manifest `fileId`). */
export async function checkpointStorage(store: Store, fileId: string): Promise<FileStorage> {
  const out = new Map<string, TensorStorage>()
  const held = (id: string) => store.lookup(parseId(id).digest) !== undefined
  if (!held(fileId)) return { held: false, parts: out }
  const manifest = await readManifest(store, fileId)
  if (manifest.type !== 'file') return { held: false, parts: out }
  for (const part of manifest.parts) {
    if (!('ref' in part)) continue
    if (parseId(part.ref).kind === 'chunk') {
      const location = store.lookup(parseId(part.ref).digest)
      if (location) out.set(part.ref, { kind: 'chunks', chunks: 1, stored: location.length })
      continue
    }
    if (!held(part.ref)) continue
    const entry = await partStorage(store, part.ref)
    if (entry) out.set(entry[0], entry[1])
  }
  return { held: true, parts: out }
}

/** The storage of each tensor of all these stored files (a sharded checkpoint's shards). */
export async function checkpointsStorage(
  store: Store,
  fileIds: readonly string[],
): Promise<FileStorage> {
  const out: FileStorage = { held: fileIds.length > 0, parts: new Map() }
  for (const id of fileIds) {
    const one = await checkpointStorage(store, id)
    out.held &&= one.held
    for (const [k, v] of one.parts) out.parts.set(k, v)
  }
  return out
}

/** `low-rank, rank 16`, `sparse delta`, `3 chunks`: the short form diff and inspect print. */
export function describeStorage(storage: TensorStorage): string {
  switch (storage.kind) {
    case 'low-rank':
      return `low-rank, rank ${storage.rank}`
    case 'delta':
      return 'sparse delta'
    case 'chunks':
      return storage.chunks === 1 ? '1 chunk' : `${storage.chunks} chunks`
    case 'inline':
      return 'inline'
  }
}
