import { text } from 'node:stream/consumers'
import { MlvcError } from '../../core/index.ts'
import { describeBad, describeRaw, findStubs, historyBlobs, objectInfo } from '../../git/index.ts'
import { listRemotes } from '../../remote/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { freshConfig, requireGit, warnIfNotInstalled } from '../repo.ts'
import { pushStubs } from './sync.ts'

const ZERO = /^0+$/

/**
 * The pre-push hook: git passes the remote's name and URL, and on stdin one line per ref being
 * pushed ("<local ref> <local sha> <remote ref> <remote sha>"). mlvc uploads what the new commits
 * reference to the mlvc remote of the same name (else the default one); a failure stops the push.
 */
export async function prePush(gitRemote: string, io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const lines = (await text(process.stdin)).split('\n').filter(Boolean)
  const revs: string[] = []
  const remoteShas: string[] = []
  for (const line of lines) {
    const [, localSha, , remoteSha] = line.split(' ')
    if (!localSha || ZERO.test(localSha)) continue
    revs.push(localSha)
    if (remoteSha && !ZERO.test(remoteSha)) remoteShas.push(remoteSha)
  }
  if (revs.length === 0) return { data: null, text: '' }
  // What the remote has and we know need not be sent; one cat-file for every ref (a push can
  // carry 100,000 tags), not a process each.
  const known = await objectInfo(ctx.workTree, [...new Set(remoteShas)])
  for (const [sha, info] of known) {
    if (info.type === 'commit' || info.type === 'tag') revs.push(`^${sha}`)
  }
  const options = ['--not', `--remotes=${gitRemote}`]
  const blobs = await historyBlobs(ctx.workTree, { revs: [...new Set(revs)], options })
  const { stubs, raw, bad } = await findStubs(ctx.workTree, blobs)
  if (raw.length > 0) {
    await warnIfNotInstalled(ctx, io)
    throw describeRaw(raw)
  }
  // New commits only: a stub nobody could use is refused before others receive it.
  if (bad.length > 0) throw describeBad(bad)
  if (stubs.length === 0) return { data: null, text: '' }
  const named = listRemotes(await freshConfig(ctx)).some((r) => r.name === gitRemote)
  try {
    const result = await pushStubs(ctx, named ? gitRemote : undefined, stubs, io)
    io.warn(`mlvc: ${result.text}`)
    return { data: result.data, text: '' }
  } catch (err) {
    if (err instanceof MlvcError && err.code === 'REMOTE') {
      throw new MlvcError(
        'REMOTE',
        `${err.message}: the pushed commits reference ${stubs.length} mlvc file(s) that others could not get`,
        {
          hint: 'configure one (mlvc remote add origin PATH) or skip the check with git push --no-verify',
        },
      )
    }
    throw err
  }
}
