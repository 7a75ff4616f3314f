import { filterSettings, readFd, serveFilter } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { ensureHooks, requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { safeForTerminal } from '../text.ts'

/** `git` runs this once per command (filter.mlvc.process); stdin/stdout carry pkt-lines. */
export async function filterProcess(io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  // A clone made with the filter configured globally gets mlvc's hooks on its first checkout.
  await ensureHooks(ctx, io)
  const settings = filterSettings(ctx.config)
  // The filter's own messages go to git's stderr whatever --quiet says: git shows them per file.
  const warn = (message: string) => process.stderr.write(`${safeForTerminal(message)}\n`)
  await withSession(ctx, io, (session) =>
    serveFilter(session, { input: readFd(0), outputFd: 1 }, { settings, warn }),
  )
  return { data: null, text: '' }
}
