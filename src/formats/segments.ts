import { badFormat } from './bad-format.ts'
import type { Segment, TensorLayout } from './layout.ts'

/**
 * The segments of a file from its tensors: the non-empty ranges in the file itself, sorted, with
 * overlapping or shared ranges (tied weights) merged into one segment that names them all.
 */
export function buildSegments(
  path: string,
  size: number,
  tensors: readonly TensorLayout[],
): Segment[] {
  const local = tensors.filter((t) => t.file === undefined && t.end > t.start)
  for (const t of local) {
    if (t.start < 0 || t.end > size) {
      throw badFormat(
        path,
        `tensor ${t.name}: bytes [${t.start}, ${t.end}) lie outside the file (${size} bytes)`,
      )
    }
  }
  const byStart = (a: TensorLayout, b: TensorLayout) => a.start - b.start || a.end - b.end
  // Files usually list tensors in file order already: then there is nothing to sort.
  const sorted = local.every((t, i) => i === 0 || byStart(local[i - 1] as TensorLayout, t) <= 0)
    ? local
    : local.toSorted(byStart)
  const segments: Segment[] = []
  let shared = false
  for (const t of sorted) {
    const last = segments.at(-1)
    if (last && t.start < last.end) {
      last.end = Math.max(last.end, t.end)
      last.tensors.push(t.name)
      shared = true
    } else {
      segments.push({ start: t.start, end: t.end, tensors: [t.name] })
    }
  }
  if (shared) {
    const order = new Map(tensors.map((t, i) => [t.name, i]))
    for (const s of segments)
      if (s.tensors.length > 1) s.tensors.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
  }
  return segments
}

/** Names must be unique: they key tensors in manifests, stubs and replacements. */
export function checkUniqueNames(path: string, tensors: readonly TensorLayout[]): void {
  const seen = new Set<string>()
  for (const t of tensors) {
    if (seen.has(t.name)) throw badFormat(path, `two tensors are named ${JSON.stringify(t.name)}`)
    seen.add(t.name)
  }
}

/**
 * For formats where each tensor owns its bytes (all but PyTorch, whose views may share a
 * storage): two tensors over the same bytes would change together when either is written.
 */
export function checkDisjointTensors(path: string, tensors: readonly TensorLayout[]): void {
  const sorted = tensors
    .filter((t) => t.file === undefined && t.end > t.start)
    .toSorted((a, b) => a.start - b.start)
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1] as TensorLayout, sorted[i] as TensorLayout]
    if (b.start < a.end) throw badFormat(path, `tensors ${a.name} and ${b.name} overlap`)
  }
}
