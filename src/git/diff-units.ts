import type { FileVersion, Listing } from './diff-sides.ts'

/** What to compare: a tracked file, or a sharded checkpoint (its index, with its shards). */
export interface DiffUnit {
  path: string
  sharded: boolean
  /** Empty when the path is absent on that side. */
  old: FileVersion[]
  new: FileVersion[]
}

/** Same content: equal file ids (the work tree counts only when the stat cache vouched). */
function sameFile(a: FileVersion | undefined, b: FileVersion | undefined): boolean {
  if (!a || !b) return a === b
  return a.stub !== undefined && b.stub !== undefined && a.stub.id === b.stub.id
}

function sameUnit(unit: DiffUnit): boolean {
  if (unit.old.length !== unit.new.length) return false
  const byPath = new Map(unit.new.map((v) => [v.path, v]))
  return unit.old.every((v) => sameFile(v, byPath.get(v.path)))
}

/** Whether a unit is selected by pathspecs (repository-relative paths or folders; none: all). */
function selected(unit: DiffUnit, specs: readonly string[]): boolean {
  if (specs.length === 0) return true
  const paths = [unit.path, ...unit.old.map((v) => v.path), ...unit.new.map((v) => v.path)]
  return paths.some((p) =>
    specs.some((s) => s === '' || s === '.' || p === s || p.startsWith(`${s.replace(/\/$/, '')}/`)),
  )
}

/**
 * The units that differ between two sides, sorted by path. A sharded checkpoint is compared as one
 * unit whenever either side has its index; its shards are not listed again on their own.
 */
export function changedUnits(
  old: Listing,
  next: Listing,
  specs: readonly string[] = [],
): DiffUnit[] {
  const units: DiffUnit[] = []
  const claimed = new Set<string>()
  for (const path of new Set([...old.indexes.keys(), ...next.indexes.keys()])) {
    // A side without the index (added or removed) still has the shards the other side lists.
    const pick = (side: Listing, other: Listing) =>
      (side.indexes.get(path) ?? other.indexes.get(path) ?? []).flatMap((p) => {
        const version = side.files.get(p)
        return version ? [version] : []
      })
    const unit = { path, sharded: true, old: pick(old, next), new: pick(next, old) }
    if (unit.old.length === 0 && unit.new.length === 0) continue
    for (const v of [...unit.old, ...unit.new]) claimed.add(v.path)
    units.push(unit)
  }
  for (const path of new Set([...old.files.keys(), ...next.files.keys()])) {
    if (claimed.has(path)) continue
    const a = old.files.get(path)
    const b = next.files.get(path)
    units.push({ path, sharded: false, old: a ? [a] : [], new: b ? [b] : [] })
  }
  return units
    .filter((u) => !sameUnit(u) && selected(u, specs))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
