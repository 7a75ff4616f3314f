import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { isMlvcError, MlvcError } from '../../core/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import {
  externalDataGroup,
  externalDataReason,
  keepOneSide,
  mergeStubs,
  readSides,
  type SideStubs,
  shellQuote,
  summarize,
} from '../merge-support.ts'
import { requireGit } from '../repo.ts'

export function conflictHint(path: string): string {
  const arg = shellQuote(path)
  return (
    `  resolve: mlvc resolve ${arg} --strategy average   (or ours, theirs, task-arithmetic:lambda=0.5, ties)\n` +
    `  or keep one side: git checkout --theirs -- ${arg} && git add ${arg}`
  )
}

/**
 * Git's merge driver for tracked files (merge.mlvc.driver = … merge-driver %O %A %B %P). Git passes
 * the stored form (stubs) of base, ours and theirs in temporary files; the result goes into %A,
 * and exit code 1 marks a conflict (then %A is left as ours: the work tree gets our version).
 * Checkpoints merge tensor by tensor; other files merge when one side equals the base.
 */
export async function mergeDriver(
  base: string,
  ours: string,
  theirs: string,
  path: string,
  io: Io,
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const [o, a, b] = (await Promise.all([base, ours, theirs].map((f) => readFile(f)))) as [
    Buffer,
    Buffer,
    Buffer,
  ]
  if (a.equals(b) || o.equals(b)) return { data: { path, result: 'ours' }, text: '' }
  if (o.equals(a)) {
    await copyFile(theirs, ours)
    return { data: { path, result: 'theirs' }, text: '' }
  }
  let stubs: SideStubs
  try {
    stubs = readSides({ base: o, ours: a, theirs: b })
  } catch (err) {
    if (!isMlvcError(err, 'BAD_STUB')) throw err
    io.warn(
      `mlvc: conflict in ${path}: ${err.message}; the work tree has our version.\n${conflictHint(path)}`,
    )
    return { data: { path, result: 'conflict', reason: err.message }, text: '', exitCode: 1 }
  }
  if (stubs.base && stubs.ours && stubs.theirs && stubs.ours.extra && stubs.theirs.extra) {
    const sides = { base: stubs.base, ours: stubs.ours, theirs: stubs.theirs }
    try {
      const report = await withRepoStore(ctx, (store) => mergeStubs(ctx, store, sides, path, io))
      if (report.kind === 'merged') {
        await writeFile(ours, report.stub)
        io.warn(`mlvc: merged ${path} tensor by tensor: ${summarize(report.outcome)}`)
        return { data: { path, result: 'merged' }, text: '' }
      }
      const hint = report.together ? `  ${keepOneSide(report.together)}` : conflictHint(path)
      io.warn(
        `mlvc: conflict in ${path}: the work tree has our version.\n${report.lines.join('\n')}\n${hint}`,
      )
      return { data: { path, result: 'conflict', conflicts: report.lines }, text: '', exitCode: 1 }
    } catch (err) {
      if (isMlvcError(err, 'INTERRUPTED')) {
        throw new MlvcError(
          'INTERRUPTED',
          `interrupted while merging ${path}; nothing was stored, the work tree keeps our version`,
          { cause: err },
        )
      }
      io.warn(
        `mlvc: conflict in ${path}: ${(err as Error).message}; the work tree has our version.\n${conflictHint(path)}`,
      )
      return { data: { path, result: 'conflict' }, text: '', exitCode: 1 }
    }
  }
  const group = await externalDataGroup(ctx.workTree, path)
  if (group.length > 0) {
    io.warn(
      `mlvc: conflict in ${path}: both sides changed it; ${externalDataReason(group)}; the work tree has our version.\n  ${keepOneSide(group)}`,
    )
    return { data: { path, result: 'conflict' }, text: '', exitCode: 1 }
  }
  io.warn(
    `mlvc: conflict in ${path}: both sides changed it; the work tree has our version.\n${conflictHint(path)}`,
  )
  return { data: { path, result: 'conflict' }, text: '', exitCode: 1 }
}
