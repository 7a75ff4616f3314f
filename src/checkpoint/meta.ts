import type { CheckpointFormat, MetadataValue, TensorLayout } from '../formats/index.ts'
import type { Manifest, Store } from '../store/index.ts'
import type { TensorStatsJSON } from '../tensors/index.ts'
import { readTable } from './table.ts'

/** A tensor of a stored checkpoint: where it lies in the file, the id of its bytes, statistics. */
export interface TensorRecord extends TensorLayout {
  /**
   * The id naming the bytes of the segment that holds the tensor (a part id, whether stored whole
   * or as a delta); null for ONNX external data, which lives in another file.
   */
  content: string | null
  /** Null where the elements cannot be decoded (quantized blocks) or are elsewhere. */
  stats: TensorStatsJSON | null
}

/** What a checkpoint's file manifest keeps in its `meta` (with its table read back). */
export interface CheckpointMeta {
  kind: 'checkpoint'
  format: CheckpointFormat
  metadata: Record<string, MetadataValue>
  tensors: TensorRecord[]
  /**
   * The id of the tensor table stored on its own (see tableFitsStub): set when the table is too
   * long for a stub, and then kept out of the file manifest, which names it instead.
   */
  table?: string
}

/** A file manifest's `meta` for a checkpoint whose table is stored on its own: the count only. */
interface TableMeta {
  kind: 'checkpoint'
  format: CheckpointFormat
  metadata: Record<string, MetadataValue>
  tensors: number
}

/** What the file manifest's `meta` holds: the whole description, or the count beside `table`. */
export function manifestMeta(meta: CheckpointMeta): CheckpointMeta | TableMeta {
  const { kind, format, metadata, tensors } = meta
  return meta.table === undefined
    ? { kind, format, metadata, tensors }
    : { kind, format, metadata, tensors: tensors.length }
}

/**
 * The checkpoint description of a stored file, its table read from the store when it is stored on
 * its own (MISSING_OBJECT if the store lacks it); undefined for a plain blob.
 */
export async function readCheckpointMeta(
  store: Store,
  manifest: Manifest,
): Promise<CheckpointMeta | undefined> {
  if (manifest.type !== 'file') return undefined
  const meta = manifest.meta as Partial<CheckpointMeta> | Partial<TableMeta> | null
  if (meta?.kind !== 'checkpoint') return undefined
  if (Array.isArray(meta.tensors)) return meta as CheckpointMeta
  if (manifest.table === undefined || typeof meta.tensors !== 'number') return undefined
  const tensors = await readTable(store, manifest.table, meta.tensors)
  return { ...(meta as TableMeta), tensors, table: manifest.table }
}
