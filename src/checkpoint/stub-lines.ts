import { formatStats, statsFromJSON } from '../tensors/index.ts'
import type { CheckpointMeta, TensorRecord } from './meta.ts'
import { summaryLines } from './stub-summary.ts'

/**
 * The most a stub's checkpoint lines (format, count, one line per tensor, newlines included) may
 * take: 1 MiB, about 5,000 tensor lines, more than any single checkpoint file of today's models
 * lists. Git keeps whole blobs in memory to diff them and hosts stop rendering diffs of larger
 * files, and a stub is read whole by every command that meets it (git hands it to the filter, the
 * diff and merge drivers), so past this a table belongs in the store; it also keeps stubs far
 * below MAX_STUB_BYTES, above which git's bytes are taken for content.
 */
export const STUB_TABLE_BUDGET = 1024 * 1024

/** Tensor names are quoted (JSON) only when they would not read as one word. */
function quoteName(name: string): string {
  return /^[^\s"]+$/.test(name) ? name : JSON.stringify(name)
}

export function tensorLine(tensor: TensorRecord): string {
  const stats = tensor.stats ? formatStats(statsFromJSON(tensor.stats, tensor.name)) : 'stats=n/a'
  return `tensor: ${quoteName(tensor.name)} ${tensor.dtype} [${tensor.shape.join(',')}] ${tensor.content ?? '-'} ${stats}`
}

const elementsOf = (t: TensorRecord) => t.shape.reduce((a, b) => a * b, 1)

function headLines(meta: Pick<CheckpointMeta, 'format' | 'tensors'>): string[] {
  const elements = meta.tensors.reduce((sum, t) => sum + elementsOf(t), 0)
  return [`format: ${meta.format}`, `tensors: ${meta.tensors.length} (${elements} elements)`]
}

/**
 * Whether the checkpoint lines of a stub listing every tensor fit in STUB_TABLE_BUDGET. Decided
 * from the content alone, so a file always gets the same kind of stub; stops counting once over.
 */
export function tableFitsStub(meta: Pick<CheckpointMeta, 'format' | 'tensors'>): boolean {
  let bytes = 0
  for (const line of headLines(meta)) bytes += Buffer.byteLength(line) + 1
  for (const tensor of meta.tensors) {
    bytes += Buffer.byteLength(tensorLine(tensor)) + 1
    if (bytes > STUB_TABLE_BUDGET) return false
  }
  return bytes <= STUB_TABLE_BUDGET
}

/**
 * The stub lines of a checkpoint after the required keys: its format, a count, then one line per
 * tensor in file order — name, dtype, shape, the id of its bytes, statistics — so that `git diff`
 * and `git log -p` read like a changelog of the model. A table stored on its own (`meta.table`)
 * is named instead, with a comment saying where it is and a summary per dtype (see summaryLines).
 */
export function checkpointStubLines(meta: CheckpointMeta): string[] {
  if (meta.table !== undefined) return [...headLines(meta), ...summaryLines(meta, meta.table)]
  return [...headLines(meta), ...meta.tensors.map(tensorLine)]
}

export interface StubTensor {
  name: string
  dtype: string
  shape: number[]
  content: string | null
  /** The statistics as written: `mean=… std=… …`. */
  stats: Record<string, string>
}

const LINE = /^tensor: ("(?:[^"\\]|\\.)*"|\S+) (\S+) \[([0-9,]*)\] (\S+) ?(.*)$/

/**
 * Parses the checkpoint lines of a stub (what the stub alone can say, for diffs without the data).
 * `table` is the id of a table stored on its own: then `tensors` is empty and `count` says how
 * many the table holds.
 */
export function parseStubTensors(lines: readonly string[]): {
  format: string | undefined
  tensors: StubTensor[]
  table: string | undefined
  count: number | undefined
} {
  let format: string | undefined
  let table: string | undefined
  let count: number | undefined
  const tensors: StubTensor[] = []
  for (const line of lines) {
    if (line.startsWith('format: ')) format = line.slice(8)
    else if (line.startsWith('table: ')) table = line.slice(7)
    else if (line.startsWith('tensors: ')) count = Number.parseInt(line.slice(9), 10)
    const match = LINE.exec(line)
    if (!match) continue
    const [, rawName = '', dtype = '', shape = '', content = '-', rest = ''] = match
    const stats: Record<string, string> = {}
    for (const pair of rest.split(' ')) {
      const eq = pair.indexOf('=')
      if (eq > 0) stats[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    tensors.push({
      name: rawName.startsWith('"') ? String(JSON.parse(rawName)) : rawName,
      dtype,
      shape: shape === '' ? [] : shape.split(',').map(Number),
      content: content === '-' ? null : content,
      stats,
    })
  }
  return { format, tensors, table, count }
}
