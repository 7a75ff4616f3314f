import { type MergeOutcome, tensorDeltas } from '../checkpoint/index.ts'
import { checkNoLinkedParents, checkWriteTarget, fileError, MlvcError } from '../core/index.ts'
import { materialize } from '../store/index.ts'
import { readObjects } from './cat-file.ts'
import { git } from './exec.ts'
import { externalDataGroup } from './external-data.ts'
import { conflictLines, externalDataReason, keepOneSide } from './merge-messages.ts'
import type { StrategyOverride } from './merge-strategy.ts'
import { mergeStubs, type StrategyPrompt } from './merge-stubs.ts'
import type { RepoSession } from './session.ts'
import { fileIdentity, openStatCache, statEntry } from './stat-cache.ts'
import { parseStub, type Stub } from './stub.ts'
import { recheckInIndex } from './worktree.ts'

export interface ResolveInput {
  /** The conflicted file, relative to the work tree. */
  path: string
  /** The strategy for the tensors changed on both sides. */
  strategy: StrategyOverride
  prompt?: StrategyPrompt | undefined
}

export interface Resolved {
  stub: Stub
  outcome: MergeOutcome
}

type Stage = { mode: string; sha: string }

/** The index's stages of a conflicted path: 1 base, 2 ours, 3 theirs. */
async function conflictStages(workTree: string, path: string): Promise<Map<string, Stage>> {
  const stages = new Map<string, Stage>()
  const out = await git(['ls-files', '-u', '-z', '--', path], { cwd: workTree })
  for (const line of out.split('\0')) {
    const match = /^(\d+) ([0-9a-f]+) ([123])\t/.exec(line)
    if (match?.[1] && match[2] && match[3]) stages.set(match[3], { mode: match[1], sha: match[2] })
  }
  if (stages.size < 3) {
    throw new MlvcError(
      'USAGE',
      `${path} is not in a conflicted merge with a base, ours and theirs`,
      { hint: 'mlvc resolve works during a merge that stopped on this file (git status shows it)' },
    )
  }
  return stages
}

/** The three stages' stubs; throws USAGE when a side is not stored by mlvc. */
async function stageStubs(workTree: string, path: string, stages: Map<string, Stage>) {
  const blobs = await readObjects(
    workTree,
    [...stages.values()].map((s) => s.sha),
  )
  const stub = (stage: string, side: string) => {
    const data = blobs.get(stages.get(stage)?.sha ?? '') ?? Buffer.alloc(0)
    const parsed = parseStub(data, `${path} (${side})`)
    if (!parsed) throw fileError('USAGE', path, `the ${side} version is not stored by mlvc`)
    return parsed
  }
  return { base: stub('1', 'base'), ours: stub('2', 'ours'), theirs: stub('3', 'theirs') }
}

/**
 * Finishes a conflicted merge of a checkpoint: merges the index's three stages with the given
 * strategy, writes the result into the work tree and stages it. Throws USAGE when the file is
 * not in a conflict, when it is ONNX external data, or when it still conflicts.
 */
export async function resolveConflict(
  session: RepoSession,
  input: ResolveInput,
): Promise<Resolved> {
  const { workTree } = session
  const { path } = input
  const stages = await conflictStages(workTree, path)
  // Checked before the merge's work as well as when the file is written.
  const abs = `${workTree}/${path}`
  checkNoLinkedParents(workTree, path)
  checkWriteTarget(abs, 'file')
  const stubs = await stageStubs(workTree, path, stages)
  if (!stubs.ours.extra || !stubs.theirs.extra) {
    const group = await externalDataGroup(workTree, path)
    if (group.length > 0) {
      throw fileError('USAGE', path, externalDataReason(group), { hint: keepOneSide(group) })
    }
  }
  const report = await mergeStubs(session, {
    stubs,
    path,
    override: input.strategy,
    prompt: input.prompt,
  })
  if (report.kind === 'conflict') {
    const lines = conflictLines(report.conflicts).join('\n')
    throw new MlvcError(
      'USAGE',
      `${path}: still conflicts with ${input.strategy.text}:\n${lines}`,
      {
        hint: report.together
          ? keepOneSide(report.together)
          : 'choose another strategy, or keep one side with git checkout --ours/--theirs',
      },
    )
  }
  const store = await session.store()
  await materialize(store, report.stub.id, abs, {
    deltas: tensorDeltas(),
    signal: session.signal,
    onProgress: session.onProgress,
  })
  const cache = await openStatCache(session.gitDir)
  const identity = await fileIdentity(abs)
  if (identity)
    cache.set(path, { ...statEntry(identity, report.stub.sha256, report.text), racy: false })
  await cache.save()
  const sha = (
    await git(['hash-object', '-w', '--no-filters', '--stdin'], {
      cwd: workTree,
      input: report.text,
    })
  ).trim()
  const mode = stages.get('2')?.mode ?? '100644'
  await git(['update-index', '--cacheinfo', `${mode},${sha},${path}`], { cwd: workTree })
  await recheckInIndex(workTree, [path])
  return { stub: report.stub, outcome: report.outcome }
}
