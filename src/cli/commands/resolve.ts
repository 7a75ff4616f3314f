import { spawn } from 'node:child_process'
import { resolveConflict } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { strategyPrompt, summarize } from '../merge-support.ts'
import { requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { quote } from '../text.ts'

/**
 * Finishes a conflicted merge of a checkpoint: merges the index's three stages with the given
 * strategy, stages the result and writes it into the work tree.
 */
export async function resolve(
  io: Io,
  [path]: [string],
  { strategy }: { strategy: string },
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const input = {
    path,
    strategy: { text: strategy, source: '--strategy' },
    prompt: strategyPrompt(),
  }
  const { outcome } = await withSession(ctx, io, (session) => resolveConflict(session, input))
  const summary = summarize(outcome)
  return { data: { path, strategy, summary }, text: `resolved ${quote(path)}: ${summary}` }
}

/**
 * `git merge` with a strategy for the checkpoints' tensors changed on both sides, or asking for
 * one on the terminal (--interactive; the merge driver reads /dev/tty, as git owns stdin). The
 * choice reaches git's merge driver through the environment.
 */
export async function merge(
  io: Io,
  [args]: [string[]],
  { strategy, interactive }: { strategy?: string | undefined; interactive?: boolean | undefined },
): Promise<CommandResult> {
  const env = { ...process.env }
  if (strategy) env.MLVC_MERGE_STRATEGY = strategy
  if (interactive) env.MLVC_MERGE_INTERACTIVE = '1'
  const code = await new Promise<number>((done, fail) => {
    const child = spawn('git', ['merge', ...args], { cwd: io.cwd, env, stdio: 'inherit' })
    child.on('error', fail)
    child.on('close', (c) => done(c ?? 1))
  })
  return { data: { exitCode: code }, text: '', exitCode: code }
}
