import { type DType, isDType } from '../formats/index.ts'
import type { DeltaCodec } from '../store/index.ts'
import { applyDelta, applyLowRank, isLowRankPatch } from '../tensors/index.ts'

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

/**
 * Reads deltas written by ingestCheckpoint: src/tensors' sparse delta format, or its low-rank
 * format (told apart by their first bytes).
 */
export function tensorDeltas(): DeltaCodec {
  return {
    apply(base, patch, delta) {
      if (isLowRankPatch(patch)) {
        return applyLowRank(base, patch, {
          dtype: delta.dtype,
          size: delta.size,
          name: delta.content,
        })
      }
      const dtype: DType = isDType(delta.dtype) ? delta.dtype : 'U8'
      return applyDelta(base, once(patch), { dtype, name: delta.content })
    },
  }
}
