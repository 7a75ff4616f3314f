import { shellQuote } from '../../core/index.ts'
import {
  conflictLines,
  type DriverConflict,
  externalDataReason,
  keepOneSide,
  runMergeDriver,
} from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { strategyOverride, strategyPrompt, summarize } from '../merge-support.ts'
import { requireGit } from '../repo.ts'
import { withSession } from '../session.ts'

export function conflictHint(path: string): string {
  const arg = shellQuote(path)
  return (
    `  resolve: mlvc resolve ${arg} --strategy average   (or ours, theirs, task-arithmetic:lambda=0.5, ties)\n` +
    `  or keep one side: git checkout --theirs -- ${arg} && git add ${arg}`
  )
}

/** The driver's warning for a conflict, and what --json reports of it. */
function describeConflict(path: string, conflict: DriverConflict) {
  const ours = 'the work tree has our version'
  switch (conflict.kind) {
    case 'bad-stub':
      return {
        warning: `mlvc: conflict in ${path}: ${conflict.message}; ${ours}.\n${conflictHint(path)}`,
        data: { reason: conflict.message },
      }
    case 'tensors': {
      const lines = conflictLines(conflict.conflicts)
      const hint = conflict.together ? `  ${keepOneSide(conflict.together)}` : conflictHint(path)
      return {
        warning: `mlvc: conflict in ${path}: ${ours}.\n${lines.join('\n')}\n${hint}`,
        data: { conflicts: lines },
      }
    }
    case 'failed':
      return {
        warning: `mlvc: conflict in ${path}: ${conflict.message}; ${ours}.\n${conflictHint(path)}`,
        data: {},
      }
    case 'external-data':
      return {
        warning: `mlvc: conflict in ${path}: both sides changed it; ${externalDataReason(conflict.group)}; ${ours}.\n  ${keepOneSide(conflict.group)}`,
        data: {},
      }
    case 'both-changed':
      return {
        warning: `mlvc: conflict in ${path}: both sides changed it; ${ours}.\n${conflictHint(path)}`,
        data: {},
      }
  }
}

/**
 * Git's merge driver for tracked files (merge.mlvc.driver = … merge-driver %O %A %B %P); exit code
 * 1 marks a conflict.
 */
export async function mergeDriver(
  io: Io,
  [base, ours, theirs, path]: [string, string, string, string],
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const options = { override: strategyOverride(), prompt: strategyPrompt() }
  const outcome = await withSession(ctx, io, (session) =>
    runMergeDriver(session, { base, ours, theirs, path }, options),
  )
  switch (outcome.result) {
    case 'ours':
    case 'theirs':
      return { data: { path, result: outcome.result }, text: '' }
    case 'merged':
      io.warn(`mlvc: merged ${path} tensor by tensor: ${summarize(outcome.outcome)}`)
      return { data: { path, result: 'merged' }, text: '' }
    case 'conflict': {
      const { warning, data } = describeConflict(path, outcome.conflict)
      io.warn(warning)
      return { data: { path, result: 'conflict', ...data }, text: '', exitCode: 1 }
    }
  }
}
