import { MlvcError } from '../core/index.ts'
import { listRemotes } from '../remote/index.ts'
import { objectInfo } from './cat-file.ts'
import { describeBad, describeRaw, findStubs, historyBlobs } from './scan.ts'
import type { RepoSession } from './session.ts'
import { type PushResult, pushStubs } from './transfer.ts'

const ZERO = /^0+$/

/** What a push sends, from git's pre-push input. */
export interface PrePushRefs {
  /** The commits being pushed (deletions left out). */
  revs: string[]
  /** The commits the remote's refs point at now (new refs left out). */
  remoteShas: string[]
}

/**
 * Reads the pre-push hook's standard input: one line per ref being pushed, "<local ref> <local sha>
 * <remote ref> <remote sha>"; an all-zero sha is a ref that does not exist on that side.
 */
export function parsePrePushInput(text: string): PrePushRefs {
  const revs: string[] = []
  const remoteShas: string[] = []
  for (const line of text.split('\n').filter(Boolean)) {
    const [, localSha, , remoteSha] = line.split(' ')
    if (!localSha || ZERO.test(localSha)) continue
    revs.push(localSha)
    if (remoteSha && !ZERO.test(remoteSha)) remoteShas.push(remoteSha)
  }
  return { revs, remoteShas }
}

export interface PrePushOptions {
  /** The git remote's name, as git passes it to the hook. */
  gitRemote: string
  /** The hook's standard input. */
  input: string
}

/**
 * The pre-push check: uploads what the pushed commits reference (and the git remote does not have
 * yet) to the mlvc remote of the same name, else the default one. Throws, stopping the push, when
 * those commits hold files committed raw (NOT_INSTALLED), unusable stubs (BAD_STUB), or when no
 * remote can take them (REMOTE). Undefined when there is nothing to upload.
 */
export async function prePush(
  session: RepoSession,
  options: PrePushOptions,
): Promise<PushResult | undefined> {
  const { workTree } = session
  const { revs, remoteShas } = parsePrePushInput(options.input)
  if (revs.length === 0) return undefined
  // What the remote has and we know need not be sent; one cat-file for every ref (a push can
  // carry 100,000 tags), not a process each.
  const known = await objectInfo(workTree, [...new Set(remoteShas)])
  for (const [sha, info] of known) {
    if (info.type === 'commit' || info.type === 'tag') revs.push(`^${sha}`)
  }
  const selection = {
    revs: [...new Set(revs)],
    options: ['--not', `--remotes=${options.gitRemote}`],
  }
  const { stubs, raw, bad } = await findStubs(workTree, await historyBlobs(workTree, selection))
  if (raw.length > 0) throw describeRaw(raw)
  // New commits only: a stub nobody could use is refused before others receive it.
  if (bad.length > 0) throw describeBad(bad)
  if (stubs.length === 0) return undefined
  const named = listRemotes(await session.config()).some((r) => r.name === options.gitRemote)
  try {
    return await pushStubs(session, stubs, named ? options.gitRemote : undefined)
  } catch (err) {
    if (err instanceof MlvcError && err.code === 'REMOTE') {
      throw new MlvcError(
        'REMOTE',
        `${err.message}: the pushed commits reference ${stubs.length} mlvc file(s) that others could not get`,
        {
          hint: 'configure one (mlvc remote add origin PATH) or skip the check with git push --no-verify',
          cause: err,
        },
      )
    }
    throw err
  }
}
