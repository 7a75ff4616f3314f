import { type DType, dtypeSize, isDType } from '../formats/index.ts'
import { formatStats, type TensorStats, type TensorStatsJSON } from '../tensors/index.ts'
import type { CheckpointMeta, TensorRecord } from './meta.ts'

interface Group {
  dtype: string
  tensors: TensorRecord[]
}

/** Tensors by dtype, in the order each dtype first appears in the file. */
function byDtype(tensors: readonly TensorRecord[]): Group[] {
  const groups = new Map<string, Group>()
  for (const t of tensors) {
    let group = groups.get(t.dtype)
    if (!group) {
      group = { dtype: t.dtype, tensors: [] }
      groups.set(t.dtype, group)
    }
    group.tensors.push(t)
  }
  return [...groups.values()]
}

/** A statistic as JSON holds it, back as a number: null is NaN (l2: an overflow, Infinity). */
const value = (x: number | null, l2 = false) => x ?? (l2 ? Number.POSITIVE_INFINITY : Number.NaN)

const finiteOf = (s: TensorStatsJSON) => s.count - s.nan - s.posInf - s.negInf

/**
 * The statistics of all elements of the given tensors together, from their own (exact, in file
 * order, so the figures depend on the content alone): moments combined over finite elements, the
 * norm from the squared norms, extremes and counts added up.
 */
function combinedStats(all: readonly TensorStatsJSON[]): TensorStats {
  const total: TensorStats = {
    count: 0,
    mean: Number.NaN,
    std: Number.NaN,
    min: Number.NaN,
    max: Number.NaN,
    l2: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    zeros: 0,
  }
  let finite = 0
  let sum = 0
  let squares = 0
  for (const s of all) {
    const n = finiteOf(s)
    total.count += s.count
    total.nan += s.nan
    total.posInf += s.posInf
    total.negInf += s.negInf
    total.zeros += s.zeros
    squares += value(s.l2, true) ** 2
    if (n <= 0) continue
    finite += n
    sum += value(s.mean) * n
    if (!(value(s.min) >= total.min)) total.min = value(s.min)
    if (!(value(s.max) <= total.max)) total.max = value(s.max)
  }
  total.l2 = Math.sqrt(squares)
  if (finite === 0) return total
  total.mean = sum / finite
  let m2 = 0
  for (const s of all) {
    const n = finiteOf(s)
    if (n > 0) m2 += n * (value(s.std) ** 2 + (value(s.mean) - total.mean) ** 2)
  }
  total.std = Math.sqrt(m2 / finite)
  return total
}

function groupLine({ dtype, tensors }: Group): string {
  let elements = 0
  const stats: TensorStatsJSON[] = []
  for (const t of tensors) {
    elements += t.shape.reduce((a, b) => a * b, 1)
    if (t.stats) stats.push(t.stats)
  }
  const bytes = isDType(dtype) ? ` bytes=${elements * dtypeSize(dtype as DType)}` : ''
  const head = `dtype: ${dtype} tensors=${tensors.length} elements=${elements}${bytes}`
  if (stats.length === 0) return `${head} stats=n/a`
  const missing = tensors.length - stats.length
  return `${head} ${formatStats(combinedStats(stats))}${missing > 0 ? ` no-stats=${missing}` : ''}`
}

/**
 * What a stub says instead of one line per tensor when the table is stored on its own: the table's
 * id, a comment saying so in words, and one line per dtype (tensors, elements, bytes and the
 * statistics of all their elements together), so that `git diff` of two versions still shows
 * which kinds of tensors changed and by how much.
 */
export function summaryLines(meta: CheckpointMeta, table: string): string[] {
  return [
    `table: ${table}`,
    `# ${meta.tensors.length} tensors are too many to list in this stub: their table (name, dtype, shape, content id and statistics of each) is in the mlvc store as the object named by table:, fetched and pushed with this file's content; mlvc inspect and mlvc diff show it`,
    ...byDtype(meta.tensors).map(groupLine),
  ]
}
