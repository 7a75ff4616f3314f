import { isMlvcError } from '../../core/index.ts'
import { diffDriverReport, parseDriverArgs } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { quote } from '../text.ts'
import { renderReport, terminalColors } from './diff-render.ts'

/**
 * Git's external diff driver (diff.mlvc.command): called once per changed path with `path
 * old-file old-hex old-mode new-file new-hex new-mode [new-path xfrm-msg]`, or with the path
 * alone when it is unmerged. Prints the same report as `mlvc diff`. A failure is reported in the
 * output and the exit code stays 0, because git stops the whole diff when a driver fails.
 */
export async function diffDriver(io: Io, [args]: [readonly string[]]): Promise<CommandResult> {
  const { path, to, sides } = parseDriverArgs(args)
  const header = `mlvc diff ${quote(`a/${path}`)} ${quote(`b/${to}`)}`
  const c = terminalColors(true)
  if (!sides) return { data: { path, unmerged: true }, text: `${header}\n  unmerged` }
  try {
    const ctx = requireGit(await repoContext(io.cwd))
    const report = await withSession(ctx, io, (session) => diffDriverReport(session, sides))
    return { data: report, text: [c.bold(header), ...renderReport(report, c)].join('\n') }
  } catch (err) {
    if (isMlvcError(err, 'INTERRUPTED')) throw err
    const message = (err as Error).message
    io.warn(`mlvc: ${quote(path)}: ${message}`)
    return { data: { path, error: message }, text: `${header}\n  could not compare: ${message}` }
  }
}
