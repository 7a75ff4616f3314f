import { repoStatus, storedFiles } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { requireGit, warnIfNotInstalled } from '../repo.ts'
import { withSession } from '../session.ts'
import { quote } from '../text.ts'

/** Tracked files in the index: work-tree state, local store, remote; raw commits are errors. */
export async function status(io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const installed = await warnIfNotInstalled(ctx, io)
  const { files, raw, bad } = await withSession(ctx, io, repoStatus)
  const lines = files.map((f) => {
    const flags = [
      f.workTree,
      f.local ? '' : 'not in local store',
      f.remote === false ? 'not on remote' : '',
    ].filter(Boolean)
    return `${flags.join(', ').padEnd(34)} ${formatBytes(f.size).padStart(10)}  ${quote(f.path)}`
  })
  for (const r of raw)
    lines.push(
      `${'committed raw (run git add --renormalize)'.padEnd(34)} ${''.padStart(10)}  ${quote(r.path)}`,
    )
  for (const b of bad) lines.push(`${'unusable stub'.padEnd(34)} ${''.padStart(10)}  ${b.path}`)
  for (const b of bad) io.warn(`mlvc: ${b.problem.message}`)
  if (lines.length === 0) lines.push('no files tracked by mlvc in the index')
  return {
    data: {
      installed,
      files,
      raw: raw.map((r) => r.path),
      bad: bad.map((b) => ({ path: b.path, message: b.problem.message })),
    },
    text: lines.join('\n'),
    exitCode: raw.length + bad.length > 0 ? 1 : 0,
  }
}

/** Files stored by mlvc in a commit (default HEAD). */
export async function lsFiles(io: Io, [rev]: [string | undefined]): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const rows = await withSession(ctx, io, (session) => storedFiles(session, rev ?? 'HEAD'))
  const text = rows
    .map(
      (r) =>
        `${r.id.slice(0, 16)}… ${r.local ? '*' : '-'} ${formatBytes(r.size).padStart(10)}  ${quote(r.path)}`,
    )
    .join('\n')
  return { data: rows, text }
}
