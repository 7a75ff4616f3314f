import { STATS_FIELDS, type TensorStats, type TensorStatsJSON } from '../tensors/index.ts'

/** A presence flag, then STATS_FIELDS in order: unpackStats builds its objects in this order. */
const WIDTH = STATS_FIELDS.length + 1

/**
 * Statistics of many tensors in one flat array (a presence flag, then each field), so a worker
 * fills it as it goes and hands it over in one transfer instead of cloning an object per tensor.
 */
export function createPackedStats(count: number): Float64Array<ArrayBuffer> {
  return new Float64Array(count * WIDTH)
}

export function setPackedStats(packed: Float64Array, i: number, stats: TensorStats): void {
  packed[i * WIDTH] = 1
  STATS_FIELDS.forEach((field, k) => {
    packed[i * WIDTH + 1 + k] = stats[field]
  })
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null)
/** Counts as small integers where they fit, so they take no number object of their own. */
const count = (x: number) => (x <= 0x3fffffff ? x | 0 : x)

/** Back to what statsToJSON gives, one object per tensor. */
export function unpackStats(packed: Float64Array): Array<TensorStatsJSON | null> {
  const out = new Array<TensorStatsJSON | null>(packed.length / WIDTH)
  for (let i = 0; i < out.length; i++) {
    const at = i * WIDTH
    out[i] =
      packed[at] !== 1
        ? null
        : {
            count: count(packed[at + 1] as number),
            mean: orNull(packed[at + 2] as number),
            std: orNull(packed[at + 3] as number),
            min: orNull(packed[at + 4] as number),
            max: orNull(packed[at + 5] as number),
            l2: orNull(packed[at + 6] as number),
            nan: count(packed[at + 7] as number),
            posInf: count(packed[at + 8] as number),
            negInf: count(packed[at + 9] as number),
            zeros: count(packed[at + 10] as number),
          }
  }
  return out
}
