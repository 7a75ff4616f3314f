import { posix } from 'node:path'
import {
  checkpointStubLines,
  type MergeConflict,
  type MergeOutcome,
  mergeCheckpoints,
  type Side,
  type StrategySpec,
} from '../checkpoint/index.ts'
import { fileError } from '../core/index.ts'
import { fetchObjects } from '../remote/index.ts'
import { isComplete, type Store } from '../store/index.ts'
import { type StrategyOverride, strategyChooser } from './merge-strategy.ts'
import type { RepoSession } from './session.ts'
import { formatStub, readStub, type Stub, stubProblemError } from './stub.ts'

/**
 * Asks someone for a strategy for each tensor changed on both sides (`conflicts`, all with reason
 * `changed-on-both-sides`): the answers by tensor name, or undefined to leave the conflicts be.
 */
export type StrategyPrompt = (
  path: string,
  conflicts: readonly MergeConflict[],
) => Map<string, StrategySpec> | undefined

export interface MergeStubsInput {
  stubs: Record<Side, Stub>
  /** The file's path in the work tree. */
  path: string
  /** This merge's strategy (see strategyChooser). */
  override?: StrategyOverride | undefined
  /** When tensors conflict: asked once, and the merge is run again with its answers. */
  prompt?: StrategyPrompt | undefined
}

export type MergeReport =
  | { kind: 'merged'; stub: Stub; text: string; outcome: MergeOutcome }
  /** `together`: files (work-tree paths) of which only one side of all can be taken. */
  | { kind: 'conflict'; conflicts: MergeConflict[]; together?: string[] | undefined }

/** Fetches the versions the store lacks from the default remote; throws naming what is missing. */
async function ensureLocal(
  session: RepoSession,
  store: Store,
  stubs: Record<Side, Stub>,
  path: string,
): Promise<void> {
  const missing: string[] = []
  for (const stub of Object.values(stubs))
    if (!(await isComplete(store, stub.id))) missing.push(stub.id)
  if (missing.length === 0) return
  try {
    await fetchObjects(store, await session.openRemote(), missing, { signal: session.signal })
  } catch (err) {
    session.onWarning?.({ kind: 'merge-fetch-failed', path, message: (err as Error).message })
  }
  for (const [side, stub] of Object.entries(stubs)) {
    if (!(await isComplete(store, stub.id))) {
      const detail = `the ${side} version (${stub.id}) is not in the local store or on the remote`
      throw fileError('MISSING_OBJECT', path, detail, {
        hint: 'fetch it (mlvc fetch --all), then run mlvc resolve',
      })
    }
  }
}

/**
 * Merges three stubs of a checkpoint tensor by tensor (fetching versions the store lacks from
 * the default remote): the merged file is stored and its stub returned, or the conflicts.
 */
export async function mergeStubs(
  session: RepoSession,
  input: MergeStubsInput,
): Promise<MergeReport> {
  const { stubs, path } = input
  const store = await session.store()
  await ensureLocal(session, store, stubs, path)
  const chooser = await strategyChooser({
    workTree: session.workTree,
    config: await session.config(),
    path,
    override: input.override,
  })
  let answers: Map<string, StrategySpec> | undefined
  const merge = () =>
    mergeCheckpoints(store, {
      base: stubs.base.id,
      ours: stubs.ours.id,
      theirs: stubs.theirs.id,
      path,
      choose: (tensor) => answers?.get(tensor) ?? chooser(tensor),
      signal: session.signal,
    })
  let outcome = await merge()
  const open = outcome.conflicts.filter((c) => c.reason === 'changed-on-both-sides')
  if (outcome.conflicts.length > 0 && open.length > 0 && input.prompt) {
    answers = input.prompt(path, open)
    if (answers) outcome = await merge()
  }
  if (outcome.conflicts.length > 0 || !outcome.result) {
    const together = outcome.external && [
      path,
      ...outcome.external.map((f) => posix.join(posix.dirname(path), f)),
    ]
    return { kind: 'conflict', conflicts: outcome.conflicts, together }
  }
  await store.commit()
  const { id, size, sha256, meta } = outcome.result
  const stub = { id, size, sha256, extra: checkpointStubLines(meta) }
  return { kind: 'merged', stub, text: formatStub(stub), outcome }
}

/** Each side's stub; a side that is not a stub is undefined. */
export type SideStubs = Record<Side, Stub | undefined>

/**
 * Reads the three sides of a merge as stubs. Throws BAD_STUB when a side is an unusable stub
 * (malformed, or from a newer mlvc), naming the side ("their side: malformed mlvc stub (…)").
 */
export function readSides(texts: Record<Side, Uint8Array>): SideStubs {
  const label = { base: 'the merge base', ours: 'our side', theirs: 'their side' } as const
  const sides: SideStubs = { base: undefined, ours: undefined, theirs: undefined }
  for (const side of ['ours', 'theirs', 'base'] as const) {
    const reading = readStub(texts[side], label[side])
    if (reading && 'problem' in reading) throw stubProblemError(reading.problem)
    sides[side] = reading?.stub
  }
  return sides
}
