import type { CheckpointFormat, MetadataValue, TensorLayout } from '../formats/index.ts'
import type { Manifest } from '../store/index.ts'
import type { TensorStatsJSON } from '../tensors/index.ts'

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

/** What a checkpoint's file manifest keeps in its `meta`. */
export interface CheckpointMeta {
  kind: 'checkpoint'
  format: CheckpointFormat
  metadata: Record<string, MetadataValue>
  tensors: TensorRecord[]
}

/** The checkpoint description of a stored file, or undefined for a plain blob. */
export function checkpointMeta(manifest: Manifest): CheckpointMeta | undefined {
  if (manifest.type !== 'file') return undefined
  const meta = manifest.meta as Partial<CheckpointMeta> | null
  if (meta?.kind !== 'checkpoint' || !Array.isArray(meta.tensors)) return undefined
  return meta as CheckpointMeta
}
