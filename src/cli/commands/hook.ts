import { text } from 'node:stream/consumers'
import { isMlvcError, MlvcError } from '../../core/index.ts'
import { prePush as checkPush } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { requireGit, warnIfNotInstalled } from '../repo.ts'
import { withSession } from '../session.ts'
import { pushOutput } from './sync.ts'

/** `mlvc hook NAME ARGS…`: what the hooks mlvc install writes run. */
export async function hook(io: Io, [name, args]: [string, string[]]): Promise<CommandResult> {
  if (name !== 'pre-push') throw new MlvcError('USAGE', `unknown hook ${name}`)
  return prePush(io, args[0] ?? 'origin')
}

/**
 * The pre-push hook: git passes the remote's name and URL, and on stdin one line per ref being
 * pushed. mlvc uploads what the new commits reference to the mlvc remote of the same name (else
 * the default one); a failure stops the push.
 */
async function prePush(io: Io, gitRemote: string): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const input = await text(process.stdin)
  try {
    const result = await withSession(ctx, io, (session) => checkPush(session, { gitRemote, input }))
    if (!result) return { data: null, text: '' }
    const output = pushOutput(result)
    io.warn(`mlvc: ${output.text}`)
    return { data: output.data, text: '' }
  } catch (err) {
    if (isMlvcError(err, 'NOT_INSTALLED')) await warnIfNotInstalled(ctx, io)
    throw err
  }
}
