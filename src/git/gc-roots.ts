import { MlvcError } from '../core/index.ts'
import { git } from './exec.ts'
import { findStubs, historyBlobs, indexBlobs, type PathBlob } from './scan.ts'

/**
 * The file ids the stubs among `blobs` name. A malformed stub still keeps alive the file its id
 * line names, if it names one; a stub from a newer mlvc may reference objects in ways this one
 * cannot read, so it stops the caller (BAD_STUB): `purpose` says what cannot be done.
 */
async function stubRoots(workTree: string, blobs: PathBlob[], purpose: string): Promise<string[]> {
  const { stubs, bad } = await findStubs(workTree, blobs)
  const newer = bad.filter((b) => b.problem.kind === 'newer')
  if (newer.length > 0) {
    throw new MlvcError('BAD_STUB', `${newer[0]?.problem.message}: ${purpose}`, {
      hint: 'upgrade mlvc first',
    })
  }
  const kept = bad.flatMap((b) => (b.id ? [b.id] : []))
  return [...new Set([...stubs.map((s) => s.stub.id), ...kept])]
}

/**
 * The files Git keeps alive, for gc: stubs in every commit reachable from any ref (branches, tags,
 * remote branches, the stash, every worktree's HEAD) and in every worktree's index. Reflogs do not
 * count, so that rewriting history can free space. Throws BAD_STUB when a stub from a newer mlvc
 * makes it impossible to tell.
 */
export async function gitRoots(workTree: string): Promise<string[]> {
  const blobs = [
    ...(await historyBlobs(workTree, { options: ['--all', '--indexed-objects'] })),
    ...(await indexBlobs(workTree)),
  ]
  return stubRoots(workTree, blobs, 'gc cannot tell what it needs')
}

/** The commits a Git remote's remote-tracking refs (refs/remotes/NAME/*) point at; [] if none. */
async function trackingTips(workTree: string, remote: string): Promise<string[]> {
  const out = await git(['for-each-ref', '--format=%(objectname)', `refs/remotes/${remote}/`], {
    cwd: workTree,
  })
  return [...new Set(out.split('\n').filter(Boolean))]
}

/** The commit a branch (or any revision) names; USAGE naming `what` when there is none. */
async function commitOf(workTree: string, rev: string, what: string): Promise<string> {
  const valid = rev !== '' && !rev.startsWith('-') && !/[\s^~:]/.test(rev)
  const out = valid
    ? await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: workTree }).catch(
        () => '',
      )
    : ''
  const sha = out.trim()
  if (!sha) {
    throw new MlvcError('USAGE', `${what} ${JSON.stringify(rev)}: no such branch or commit`, {
      hint: 'git branch --list shows the branches',
    })
  }
  return sha
}

export interface RemoteRootsOptions {
  /** The Git remote whose remote-tracking refs keep objects (the mlvc remote's name). */
  remote: string
  /** Branches (or other revisions) whose history is kept too. */
  keep?: readonly string[] | undefined
}

/**
 * What a remote must keep, for `mlvc gc --remote`: the files referenced by every commit reachable
 * from the Git remote's refs/remotes/NAME/* and from the `keep` branches. Without any
 * remote-tracking ref of that name this refuses (USAGE): every object would look unreferenced.
 * The refs are as fresh as the last `git fetch NAME`; what others pushed since is protected by
 * gc's grace period only.
 */
export async function remoteGcRoots(
  workTree: string,
  options: RemoteRootsOptions,
): Promise<string[]> {
  const tips = await trackingTips(workTree, options.remote)
  if (tips.length === 0) {
    throw new MlvcError(
      'USAGE',
      `Git has no refs/remotes/${options.remote}/*: gc of remote ${options.remote} would find nothing referenced`,
      {
        hint: `gc keeps what the Git remote of the same name references: run git fetch ${options.remote} (or add that Git remote) first`,
      },
    )
  }
  const keep: string[] = []
  for (const branch of options.keep ?? []) keep.push(await commitOf(workTree, branch, '--keep'))
  const blobs = await historyBlobs(workTree, { revs: [...tips, ...keep] })
  return stubRoots(workTree, blobs, `gc of remote ${options.remote} cannot tell what it needs`)
}

/**
 * What the local refs reference, for `mlvc fsck --remote`: the files of every commit reachable
 * from the local branches and tags and from refs/remotes/NAME/*.
 */
export async function remoteFsckRoots(workTree: string, remote: string): Promise<string[]> {
  const tips = await trackingTips(workTree, remote)
  const blobs = await historyBlobs(workTree, { revs: tips, options: ['--branches', '--tags'] })
  return stubRoots(workTree, blobs, `fsck of remote ${remote} cannot tell what it needs`)
}
