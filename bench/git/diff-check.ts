import { sparseCount } from '../data/edits.ts'
import { type CheckpointPlan, UPDATE_ELEMENTS } from '../data/safetensors.ts'

/** The part of `mlvc --json diff` the benchmarks rely on (src/git/diff-report.ts). */
interface DiffJson {
  files?: Array<{
    path?: string
    tensors?: Array<{ name?: string; status?: string; exact?: { changed?: number } }>
  }>
}

/**
 * What `mlvc diff v1 update` must say of each tensor: changed, and with the data, how many
 * elements (the update's sparse edits exactly; nearly all of a rewritten tensor, where a redrawn
 * value may equal the old one by chance).
 */
export interface ExpectedChange {
  name: string
  changed: { min: number; max: number }
}

export function expectedUpdateChanges(plan: CheckpointPlan): ExpectedChange[] {
  return plan.tensors.map((t) => {
    const n = (t.end - t.begin) / 4
    const exact = sparseCount(n, UPDATE_ELEMENTS)
    const changed = plan.finetuned.includes(t.name)
      ? { min: n - 16, max: n }
      : { min: exact, max: exact }
    return { name: t.name, changed }
  })
}

/**
 * Problems with a `mlvc --json diff` output for `path` (none when it is right): every expected
 * tensor reported changed, no other tensor; with `data`, the count of changed elements computed
 * from the data.
 */
export function diffProblems(
  stdout: string,
  path: string,
  expected: readonly ExpectedChange[],
  data: boolean,
): string[] {
  let parsed: DiffJson
  try {
    parsed = JSON.parse(stdout) as DiffJson
  } catch {
    return [`printed no JSON: ${stdout.slice(0, 200)}`]
  }
  const tensors = parsed.files?.find((f) => f.path === path)?.tensors
  if (!Array.isArray(tensors)) return [`no files[].tensors for ${path}`]
  const byName = new Map(tensors.map((t) => [t.name, t]))
  const problems: string[] = []
  if (tensors.length !== expected.length) {
    problems.push(`${tensors.length} tensors reported, expected ${expected.length}`)
  }
  for (const e of expected) {
    const t = byName.get(e.name)
    if (t?.status !== 'changed') {
      problems.push(`${e.name}: status ${t?.status ?? 'missing'}, expected changed`)
      continue
    }
    const n = t.exact?.changed
    if (data && (n === undefined || n < e.changed.min || n > e.changed.max)) {
      const want =
        e.changed.min === e.changed.max ? `${e.changed.min}` : `${e.changed.min}–${e.changed.max}`
      problems.push(`${e.name}: ${n ?? 'no'} changed elements from the data, expected ${want}`)
    }
  }
  return problems
}
