import type { TensorEncoding } from '../formats/index.ts'
import { STATS_FIELDS, type TensorStatsJSON } from '../tensors/index.ts'
import type { TensorRecord } from './meta.ts'

/**
 * One tensor of a stored table, as a JSON array (names are written once per table, not per
 * tensor: a table may have 200,000 lines):
 *
 *   [name, dtype, shape, start, end, nbytes, content, stats, extra?]
 *
 * stats: null, or [count, mean, std, min, max, l2, nan, posInf, negInf, zeros] as TensorStatsJSON
 * holds them. extra: the record's other fields (its encoding unless dense little-endian C order,
 * compression, external file), only when there are any.
 */
type Line = [
  string,
  string,
  number[],
  number,
  number,
  number,
  string | null,
  Array<number | null> | null,
  Record<string, unknown>?,
]

/** The fields every line holds in place; anything else goes to `extra`. */
const PLACED = new Set([
  'name',
  'dtype',
  'shape',
  'start',
  'end',
  'encoding',
  'nbytes',
  'content',
  'stats',
])

const DENSE: TensorEncoding = Object.freeze({ kind: 'dense', byteOrder: 'little', order: 'C' })

const isDense = (e: TensorEncoding) =>
  e.kind === 'dense' && e.byteOrder === 'little' && e.order === 'C'

export function encodeTableLine(t: TensorRecord): string {
  const stats = t.stats ? STATS_FIELDS.map((k) => (t.stats as TensorStatsJSON)[k]) : null
  const line: Line = [t.name, t.dtype, t.shape, t.start, t.end, t.nbytes, t.content, stats]
  let extra: Record<string, unknown> | undefined
  if (!isDense(t.encoding)) extra = { encoding: t.encoding }
  for (const key of Object.keys(t)) {
    if (PLACED.has(key)) continue
    extra ??= {}
    extra[key] = (t as unknown as Record<string, unknown>)[key]
  }
  if (extra) line.push(extra)
  return JSON.stringify(line)
}

const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

const isStat = (v: unknown): v is number | null => v === null || typeof v === 'number'

function decodeStats(raw: unknown): TensorStatsJSON | null | undefined {
  if (raw === null) return null
  if (!Array.isArray(raw) || raw.length !== STATS_FIELDS.length) return undefined
  const [count, mean, std, min, max, l2, nan, posInf, negInf, zeros]: unknown[] = raw
  if (!isCount(count) || !isCount(nan) || !isCount(posInf) || !isCount(negInf) || !isCount(zeros))
    return undefined
  if (!isStat(mean) || !isStat(std) || !isStat(min) || !isStat(max) || !isStat(l2)) return undefined
  // A literal, in TensorStatsJSON's key order (see STATS_FIELDS).
  return { count, mean, std, min, max, l2, nan, posInf, negInf, zeros }
}

/** A line back as a record (keys in one fixed order); undefined when it is malformed. */
export function decodeTableLine(text: string): TensorRecord | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  return recordOf(raw)
}

/**
 * Many lines at once: one JSON.parse of them all as one array (20,000 separate parses cost
 * several times more). The records in order; undefined when any line is malformed.
 */
export function decodeTableLines(lines: readonly string[]): TensorRecord[] | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(`[${lines.join(',')}]`)
  } catch {
    return undefined
  }
  if (!Array.isArray(raw) || raw.length !== lines.length) return undefined
  const records: TensorRecord[] = []
  for (const line of raw) {
    const record = recordOf(line)
    if (!record) return undefined
    records.push(record)
  }
  return records
}

function recordOf(raw: unknown): TensorRecord | undefined {
  if (!Array.isArray(raw) || raw.length < 8 || raw.length > 9) return undefined
  const [name, dtype, shape, start, end, nbytes, content, rawStats, extra] = raw as unknown[]
  const stats = decodeStats(rawStats)
  const fieldsOk =
    typeof name === 'string' &&
    typeof dtype === 'string' &&
    Array.isArray(shape) &&
    shape.every(isCount) &&
    [start, end, nbytes].every(isCount) &&
    (content === null || typeof content === 'string') &&
    stats !== undefined &&
    (extra === undefined || (typeof extra === 'object' && extra !== null && !Array.isArray(extra)))
  if (!fieldsOk) return undefined
  if (extra === undefined)
    return {
      name,
      dtype,
      shape,
      start,
      end,
      encoding: DENSE,
      nbytes,
      content,
      stats,
    } as TensorRecord
  const { encoding = DENSE, ...rest } = extra as { encoding?: TensorEncoding }
  return Object.assign({ name, dtype, shape, start, end, encoding }, rest, {
    nbytes,
    content,
    stats,
  }) as TensorRecord
}
