import { type DType, isDType } from '../formats/index.ts'
import type { DeltaCodec } from '../store/index.ts'
import { applyDelta } from '../tensors/index.ts'

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

/** Reads deltas written by ingestCheckpoint (src/tensors' sparse delta format). */
export function tensorDeltas(): DeltaCodec {
  return {
    apply(base, patch, delta) {
      const dtype: DType = isDType(delta.dtype) ? delta.dtype : 'U8'
      return applyDelta(base, once(patch), { dtype, name: delta.content })
    },
  }
}
