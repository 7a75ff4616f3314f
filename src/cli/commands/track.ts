import { runGit, trackedPatterns, trackPatterns, untrackPatterns } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { ensureHooks, requireGit, warnIfNotInstalled } from '../repo.ts'
import { quote } from '../text.ts'

/** Adds patterns to .gitattributes; with none, lists the tracked patterns. */
export async function track(io: Io, [patterns]: [string[]]): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  if (patterns.length === 0) {
    const tracked = await trackedPatterns(ctx.workTree)
    return {
      data: tracked,
      text:
        tracked.length > 0
          ? tracked.map((p) => quote(p)).join('\n')
          : 'no patterns tracked (mlvc track "*.safetensors")',
    }
  }
  if (await warnIfNotInstalled(ctx, io)) await ensureHooks(ctx, io)
  const added = await trackPatterns(ctx.workTree, patterns)
  for (const p of patterns.filter((p) => !added.includes(p)))
    io.warn(`${quote(p, { always: true })} was already tracked`)
  const text = added.map((p) => `tracking ${quote(p, { always: true })}`).join('\n')
  const hasCommits =
    (await runGit(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: ctx.workTree })).code === 0
  if (added.length > 0 && hasCommits) {
    io.warn(
      'matching files committed before keep their raw history; store them with: git add --renormalize .',
    )
  }
  return { data: added, text }
}

export async function untrack(io: Io, [patterns]: [string[]]): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const removed = await untrackPatterns(ctx.workTree, patterns)
  for (const p of patterns.filter((p) => !removed.includes(p)))
    io.warn(`${quote(p, { always: true })} was not tracked`)
  return {
    data: removed,
    text: removed.map((p) => `untracked ${quote(p, { always: true })}`).join('\n'),
  }
}
