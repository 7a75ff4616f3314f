import type { ProgressOptions } from '../core/index.ts'
import { isDType } from '../formats/index.ts'
import { statsToJSON, type TensorStatsJSON, tensorStats } from '../tensors/index.ts'
import type { CheckpointVersion } from './version.ts'

/** One row of `mlvc inspect`. */
export interface TensorRow {
  name: string
  dtype: string
  shape: number[]
  elements: number
  /** Decoded bytes; null when not known (a quantized type known from a stub only). */
  bytes: number | null
  /** The id of its bytes; null when not known (a file not stored). */
  content: string | null
  /** Null where the elements cannot be decoded or the data is not here. */
  stats: TensorStatsJSON | null
  /** True when the statistics are a stub's rounded figures. */
  rounded: boolean
  /** With `mlvc inspect --storage`: how its bytes are stored (storage.ts) and what they take. */
  storage?: { kind: string; stored: number }
}

/**
 * The tensor table of a version. Statistics come from the manifest or stub when they are known;
 * otherwise they are computed from the data, streaming, one tensor at a time.
 */
export async function inspectVersion(
  version: CheckpointVersion,
  options: ProgressOptions = {},
): Promise<TensorRow[]> {
  const rows: TensorRow[] = []
  for (const [i, t] of version.tensors.entries()) {
    let stats = t.stats
    if (!stats && t.read && isDType(t.dtype)) {
      stats = { value: await tensorStats(t.dtype, t.read(), options), rounded: false }
    }
    rows.push({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      elements: t.shape.reduce((a, b) => a * b, 1),
      bytes: t.bytes ?? null,
      content: t.content ?? null,
      stats: stats ? statsToJSON(stats.value) : null,
      rounded: stats?.rounded ?? false,
    })
    options.onProgress?.({
      type: 'objects',
      phase: 'inspect',
      done: i + 1,
      total: version.tensors.length,
    })
  }
  return rows
}
