import { copyFile, readFile, writeFile } from 'node:fs/promises'
import type { MergeConflict, MergeOutcome, Side } from '../checkpoint/index.ts'
import { isMlvcError, MlvcError } from '../core/index.ts'
import { externalDataGroup } from './external-data.ts'
import type { StrategyOverride } from './merge-strategy.ts'
import { mergeStubs, readSides, type SideStubs, type StrategyPrompt } from './merge-stubs.ts'
import type { RepoSession } from './session.ts'
import type { Stub } from './stub.ts'

/** What git's merge driver passes: the three versions in temporary files, and the path. */
export interface MergeDriverFiles {
  /** %O, %A and %B: the stored forms (stubs) of the merge base, ours and theirs. */
  base: string
  ours: string
  theirs: string
  /** %P: the path in the work tree. */
  path: string
}

/** Why the driver leaves a conflict (our version stays in the work tree). */
export type DriverConflict =
  /** A side is an unusable stub; `message` names the side. */
  | { kind: 'bad-stub'; message: string }
  /** Tensors (or the whole checkpoint) that cannot be merged. */
  | { kind: 'tensors'; conflicts: MergeConflict[]; together?: string[] | undefined }
  /** The tensor-by-tensor merge failed (a version missing everywhere, damaged data, …). */
  | { kind: 'failed'; message: string }
  /** The file is the external data of ONNX models: `group` are the files to keep one side of. */
  | { kind: 'external-data'; group: string[] }
  /** Any other file changed on both sides. */
  | { kind: 'both-changed' }

export type DriverResult =
  | { result: 'ours' }
  | { result: 'theirs' }
  | { result: 'merged'; outcome: MergeOutcome }
  | { result: 'conflict'; conflict: DriverConflict }

export interface MergeDriverOptions {
  override?: StrategyOverride | undefined
  prompt?: StrategyPrompt | undefined
}

/** The merge of two checkpoint stubs into %A, or the conflict that leaves %A as ours. */
async function mergeCheckpointSides(
  session: RepoSession,
  files: MergeDriverFiles,
  sides: Record<Side, Stub>,
  options: MergeDriverOptions,
): Promise<DriverResult> {
  const { path } = files
  try {
    const report = await mergeStubs(session, { stubs: sides, path, ...options })
    if (report.kind === 'merged') {
      await writeFile(files.ours, report.text)
      return { result: 'merged', outcome: report.outcome }
    }
    const { conflicts, together } = report
    return { result: 'conflict', conflict: { kind: 'tensors', conflicts, together } }
  } catch (err) {
    if (isMlvcError(err, 'INTERRUPTED')) {
      throw new MlvcError(
        'INTERRUPTED',
        `interrupted while merging ${path}; nothing was stored, the work tree keeps our version`,
        { cause: err },
      )
    }
    return { result: 'conflict', conflict: { kind: 'failed', message: (err as Error).message } }
  }
}

/**
 * Git's merge driver for tracked files (merge.mlvc.driver = … merge-driver %O %A %B %P): the result
 * goes into %A; on a conflict %A is left as ours (the work tree gets our version). Checkpoints merge
 * tensor by tensor; other files merge when one side equals the base.
 */
export async function runMergeDriver(
  session: RepoSession,
  files: MergeDriverFiles,
  options: MergeDriverOptions = {},
): Promise<DriverResult> {
  const [o, a, b] = await Promise.all([
    readFile(files.base),
    readFile(files.ours),
    readFile(files.theirs),
  ])
  if (a.equals(b) || o.equals(b)) return { result: 'ours' }
  if (o.equals(a)) {
    await copyFile(files.theirs, files.ours)
    return { result: 'theirs' }
  }
  let stubs: SideStubs
  try {
    stubs = readSides({ base: o, ours: a, theirs: b })
  } catch (err) {
    if (!isMlvcError(err, 'BAD_STUB')) throw err
    return { result: 'conflict', conflict: { kind: 'bad-stub', message: err.message } }
  }
  const { base, ours, theirs } = stubs
  if (base && ours && theirs && ours.extra && theirs.extra)
    return mergeCheckpointSides(session, files, { base, ours, theirs }, options)
  const group = await externalDataGroup(session.workTree, files.path)
  if (group.length > 0) return { result: 'conflict', conflict: { kind: 'external-data', group } }
  return { result: 'conflict', conflict: { kind: 'both-changed' } }
}
