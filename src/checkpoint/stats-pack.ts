import { must } from '../core/index.ts'
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

/** A slot of a packed array: every index below count × WIDTH is one. */
const slot = (packed: Float64Array, i: number) => must(packed[i], 'a packed statistic')
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
            count: count(slot(packed, at + 1)),
            mean: orNull(slot(packed, at + 2)),
            std: orNull(slot(packed, at + 3)),
            min: orNull(slot(packed, at + 4)),
            max: orNull(slot(packed, at + 5)),
            l2: orNull(slot(packed, at + 6)),
            nan: count(slot(packed, at + 7)),
            posInf: count(slot(packed, at + 8)),
            negInf: count(slot(packed, at + 9)),
            zeros: count(slot(packed, at + 10)),
          }
  }
  return out
}
