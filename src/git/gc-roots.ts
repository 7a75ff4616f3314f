import { MlvcError } from '../core/index.ts'
import { findStubs, historyBlobs, indexBlobs } from './scan.ts'

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
  const { stubs, bad } = await findStubs(workTree, blobs)
  // A stub from a newer mlvc may reference objects in ways this one cannot read: keep everything.
  const newer = bad.filter((b) => b.problem.kind === 'newer')
  if (newer.length > 0) {
    throw new MlvcError('BAD_STUB', `${newer[0]?.problem.message}: gc cannot tell what it needs`, {
      hint: 'upgrade mlvc before running gc',
    })
  }
  // A malformed stub still keeps alive the file its id line names, if it names one.
  const kept = bad.flatMap((b) => (b.id ? [b.id] : []))
  return [...new Set([...stubs.map((s) => s.stub.id), ...kept])]
}
