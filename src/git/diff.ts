import { type FileReport, namesTable, reportUnit } from './diff-report.ts'
import { blobListing, type Listing, workTreeListing } from './diff-sides.ts'
import { changedUnits } from './diff-units.ts'
import { indexBlobs, treeBlobs } from './scan.ts'
import type { RepoSession } from './session.ts'
import { openStatCache } from './stat-cache.ts'

export interface DiffSelection {
  /** None: index → work tree; one: REV → work tree; two: A → B (as git diff). */
  revs: readonly string[]
  /** Repository-relative paths or folders to compare (none: every tracked file). */
  paths: readonly string[]
  /** Read tensor data where it is local (exact figures). False: the stubs alone, no store. */
  data: boolean
}

/** Totals over the files of a diff. */
export interface DiffTotals {
  files: number
  tensorsChanged: number
  tensorsRemoved: number
  parametersChanged: number
  parametersExact: boolean
  /** Null when some file's figure is not known. */
  storedBytes: number | null
}

function mergeListings(a: Listing, b: Listing): Listing {
  return {
    files: new Map([...a.files, ...b.files]),
    indexes: new Map([...a.indexes, ...b.indexes]),
  }
}

/** Like git diff: no revision = index → work tree; one = REV → work tree; two = A → B. */
async function listings(
  session: RepoSession,
  selection: DiffSelection,
): Promise<[Listing, Listing]> {
  const { workTree, gitDir } = session
  const { revs } = selection
  const tree = async (rev: string) => blobListing(workTree, await treeBlobs(workTree, rev))
  const [first, second] = revs
  if (first !== undefined && second !== undefined) return Promise.all([tree(first), tree(second)])
  const index = await blobListing(workTree, await indexBlobs(workTree))
  const old = first !== undefined ? await tree(first) : index
  const work = { workTree, statCache: await openStatCache(gitDir), noData: !selection.data }
  return [old, await workTreeListing(mergeListings(old, index), index, work)]
}

function totals(reports: readonly FileReport[]): DiffTotals {
  const sum = (pick: (r: FileReport) => number | undefined) =>
    reports.reduce((s, r) => s + (pick(r) ?? 0), 0)
  return {
    files: reports.length,
    tensorsChanged: sum((r) => r.summary && r.summary.changed + r.summary.added),
    tensorsRemoved: sum((r) => r.summary?.removed),
    parametersChanged: sum((r) => r.summary?.parametersChanged),
    parametersExact: reports.every((r) => r.summary?.parametersExact ?? true),
    storedBytes: reports.every((r) => r.storedBytes !== null)
      ? sum((r) => r.storedBytes ?? 0)
      : null,
  }
}

/**
 * What changed in files stored by mlvc between two sides (see DiffSelection), tensor by tensor
 * for checkpoints. With `data`, tensors whose data is local on both sides are compared exactly
 * (the store is opened only when some file changed); without, everything comes from the stubs,
 * but for tensor tables too long for a stub, read from the store when there is one.
 */
export async function diffFiles(
  session: RepoSession,
  selection: DiffSelection,
): Promise<{ files: FileReport[]; summary: DiffTotals }> {
  const [old, next] = await listings(session, selection)
  const units = changedUnits(old, next, selection.paths)
  const store = selection.data && units.length > 0 ? await session.store() : undefined
  // Without data, the store is read only for tables too long for their stubs, if it exists.
  const tables =
    !selection.data && units.some((u) => u.old.some(namesTable) || u.new.some(namesTable))
      ? await session.existingStore()
      : undefined
  const files: FileReport[] = []
  for (const unit of units) {
    const options = {
      store,
      tables,
      data: selection.data,
      signal: session.signal,
      onProgress: session.onProgress,
    }
    files.push(await reportUnit(unit, options))
  }
  return { files, summary: totals(files) }
}
