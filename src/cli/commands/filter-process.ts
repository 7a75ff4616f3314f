import {
  filterSettings,
  hooksInstalled,
  installHooks,
  readFd,
  serveFilter,
} from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { mlvcCommand, requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { safeForTerminal } from '../text.ts'

/** `git` runs this once per command (filter.mlvc.process); stdin/stdout carry pkt-lines. */
export async function filterProcess(io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  // A clone made with the filter configured globally gets mlvc's hooks on its first checkout.
  if (!(await hooksInstalled(ctx.workTree).catch(() => true))) {
    await installHooks(ctx.workTree, mlvcCommand()).catch((err) =>
      io.warn(`mlvc: could not install hooks: ${(err as Error).message}`),
    )
  }
  const settings = filterSettings(ctx.config.tree)
  // The filter's own messages go to git's stderr whatever --quiet says: git shows them per file.
  const warn = (message: string) => process.stderr.write(`${safeForTerminal(message)}\n`)
  await withSession(ctx, io, (session) =>
    serveFilter(session, { input: readFd(0), outputFd: 1 }, { settings, warn }),
  )
  return { data: null, text: '' }
}
