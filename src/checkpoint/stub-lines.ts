import { formatStats, statsFromJSON } from '../tensors/index.ts'
import type { CheckpointMeta, TensorRecord } from './meta.ts'

/** Tensor names are quoted (JSON) only when they would not read as one word. */
function quoteName(name: string): string {
  return /^[^\s"]+$/.test(name) ? name : JSON.stringify(name)
}

export function tensorLine(tensor: TensorRecord): string {
  const stats = tensor.stats ? formatStats(statsFromJSON(tensor.stats, tensor.name)) : 'stats=n/a'
  return `tensor: ${quoteName(tensor.name)} ${tensor.dtype} [${tensor.shape.join(',')}] ${tensor.content ?? '-'} ${stats}`
}

/**
 * The stub lines of a checkpoint after the required keys: its format, a count, then one line per
 * tensor in file order — name, dtype, shape, the id of its bytes, statistics — so that `git diff`
 * and `git log -p` read like a changelog of the model.
 */
export function checkpointStubLines(meta: CheckpointMeta): string[] {
  const elements = meta.tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0)
  return [
    `format: ${meta.format}`,
    `tensors: ${meta.tensors.length} (${elements} elements)`,
    ...meta.tensors.map(tensorLine),
  ]
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

/** Parses the tensor lines of a stub (what the stub alone can say, for diffs without the data). */
export function parseStubTensors(lines: readonly string[]): {
  format: string | undefined
  tensors: StubTensor[]
} {
  let format: string | undefined
  const tensors: StubTensor[] = []
  for (const line of lines) {
    if (line.startsWith('format: ')) format = line.slice(8)
    const match = LINE.exec(line)
    if (!match) continue
    const [, rawName = '', dtype = '', shape = '', content = '-', rest = ''] = match
    const stats: Record<string, string> = {}
    for (const pair of rest.split(' ')) {
      const eq = pair.indexOf('=')
      if (eq > 0) stats[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    tensors.push({
      name: rawName.startsWith('"') ? (JSON.parse(rawName) as string) : rawName,
      dtype,
      shape: shape === '' ? [] : shape.split(',').map(Number),
      content: content === '-' ? null : content,
      stats,
    })
  }
  return { format, tensors }
}
