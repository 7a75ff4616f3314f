import { existsSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { isMlvcError, MlvcError, pushAll } from '../../core/index.ts'
import { indexBlobs, openStatCache, runGit, treeBlobs } from '../../git/index.ts'
import { openStore, type Store } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { renderReports, terminalColors } from './diff-render.ts'
import { type FileReport, namesTable, reportUnit } from './diff-report.ts'
import { blobListing, type Listing, workTreeListing } from './diff-sides.ts'
import { changedUnits } from './diff-units.ts'

export interface DiffCommandOptions {
  /** Read tensor data where it is local (exact figures). False: the stubs alone, no store. */
  data: boolean
}

async function isCommit(ctx: GitContext, rev: string): Promise<boolean> {
  const result = await runGit(['rev-parse', '--verify', '-q', `${rev}^{commit}`], {
    cwd: ctx.workTree,
  })
  return result.code === 0
}

/** `A..B` (either end defaulting to HEAD) as two revisions, as git diff reads it. */
async function revisionRange(ctx: GitContext, arg: string): Promise<string[]> {
  const match = /^(.*?)\.\.(?!\.)(.*)$/.exec(arg)
  const ends = match ? [match[1] || 'HEAD', match[2] || 'HEAD'] : []
  const valid = ends.length === 2 && (await isCommit(ctx, ends[0] as string))
  if (!valid || !(await isCommit(ctx, ends[1] as string))) {
    throw new MlvcError('USAGE', `${arg}: not a revision, nor a path in the work tree`, {
      hint: 'put paths after -- : mlvc diff [REV_A [REV_B]] -- PATH…',
    })
  }
  return ends
}

/** Splits `A..B`, checks the revisions, and takes operands that are paths as pathspecs. */
async function parseOperands(ctx: GitContext, args: readonly string[], paths: readonly string[]) {
  const revs: string[] = []
  const specs = [...paths]
  for (const arg of args) {
    if (await isCommit(ctx, arg)) revs.push(arg)
    else if (existsSync(resolve(ctx.cwd, arg))) specs.push(arg)
    else pushAll(revs, await revisionRange(ctx, arg))
  }
  if (revs.length > 2) {
    throw new MlvcError('USAGE', `at most two revisions, not ${revs.length}`, {
      hint: 'mlvc diff compares the index, a revision or two revisions with each other',
    })
  }
  const toRepo = (p: string) => relative(ctx.workTree, resolve(ctx.cwd, p)).split(sep).join('/')
  return { revs, specs: specs.map(toRepo) }
}

function mergeListings(a: Listing, b: Listing): Listing {
  return {
    files: new Map([...a.files, ...b.files]),
    indexes: new Map([...a.indexes, ...b.indexes]),
  }
}

/** Like git diff: no revision = index → work tree; one = REV → work tree; two = A → B. */
async function listings(
  ctx: GitContext,
  revs: readonly string[],
  options: DiffCommandOptions,
): Promise<[Listing, Listing]> {
  const tree = async (rev: string) => blobListing(ctx.workTree, await treeBlobs(ctx.workTree, rev))
  if (revs.length === 2) return Promise.all([tree(revs[0] as string), tree(revs[1] as string)])
  const index = await blobListing(ctx.workTree, await indexBlobs(ctx.workTree))
  const old = revs.length === 1 ? await tree(revs[0] as string) : index
  const work = {
    workTree: ctx.workTree,
    statCache: await openStatCache(ctx.git.gitDir),
    noData: !options.data,
  }
  return [old, await workTreeListing(mergeListings(old, index), index, work)]
}

function totals(reports: readonly FileReport[]) {
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
 * With --no-data, the store is read only for tensor tables too long for their stubs, and only if
 * there is one: nothing is created or fetched.
 */
async function withTables<T>(
  ctx: GitContext,
  run: (store: undefined, tables: Store | undefined) => Promise<T>,
): Promise<T> {
  const tables = ctx.storeDir
    ? await openStore(ctx.storeDir).catch((err: unknown) => {
        if (isMlvcError(err, 'NOT_FOUND')) return undefined
        throw err
      })
    : undefined
  try {
    return await run(undefined, tables)
  } finally {
    await tables?.close()
  }
}

/**
 * `mlvc diff [REV_A [REV_B]] [-- PATH…]`: what changed in files stored by mlvc, tensor by tensor
 * for checkpoints. With `data`, tensors whose data is local on both sides are compared exactly;
 * without, everything comes from the stubs in git (no store, no data).
 */
export async function diff(
  args: readonly string[],
  paths: readonly string[],
  options: DiffCommandOptions,
  io: Io,
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const { revs, specs } = await parseOperands(ctx, args, paths)
  const [old, next] = await listings(ctx, revs, options)
  const units = changedUnits(old, next, specs)
  const run = async (store: Store | undefined, tables?: Store) => {
    const reports: FileReport[] = []
    for (const unit of units) {
      reports.push(
        await reportUnit(unit, {
          store,
          tables,
          data: options.data,
          signal: io.signal,
          onProgress: io.onProgress,
        }),
      )
    }
    return reports
  }
  const tables = !options.data && units.some((u) => [...u.old, ...u.new].some(namesTable))
  const reports =
    options.data && units.length > 0
      ? await withRepoStore(ctx, run)
      : tables
        ? await withTables(ctx, run)
        : await run(undefined)
  const summary = totals(reports)
  return {
    data: { revisions: revs, files: reports, summary },
    text: renderReports(reports, terminalColors()),
  }
}
