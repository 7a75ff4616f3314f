import { hashFileSync } from '../core/index.ts'
import { modeOf } from './add.ts'
import { type EntityRef, type EntityRepo, entityPaths, metadataFiles } from './layout.ts'
import { readSpec } from './spec.ts'
import { stampOf } from './stat-cache.ts'
import { readHead, stagedAndCommitted } from './state.ts'
import { walkEntity } from './walk.ts'

export interface EntityStatus {
  kind: string
  name: string
  /** The tag checked out or last committed. */
  tag: string | null
  /** The folder holds only some of the version's files (sampled or --bare checkout). */
  partial: boolean
  /** A checkout of this tag was interrupted: running it again finishes it. */
  pending: string | null
  /** Staged for the next commit, against the committed MANIFEST. */
  staged: { added: string[]; modified: string[]; deleted: string[] }
  /** In the folder, against what is staged. */
  unstaged: { modified: string[]; deleted: string[]; untracked: string[] }
  /** Files whose stat data changed and that were hashed to tell (the rest were stat-cache hits). */
  hashed: number
}

/**
 * What add would stage and what commit would commit. Reads no file whose size, mtime and inode
 * match the stat cache; a changed one is hashed (sha-256 only, nothing is stored) to tell a
 * touched file from a modified one.
 */
export function entityStatus(repo: EntityRepo, ref: EntityRef): EntityStatus {
  const paths = entityPaths(repo, ref)
  readSpec(paths.spec, ref)
  const head = readHead(paths)
  const status: EntityStatus = {
    kind: ref.kind,
    name: ref.name,
    tag: head.tag ?? null,
    partial: head.partial,
    pending: head.pending ?? null,
    staged: { added: [], modified: [], deleted: [] },
    unstaged: { modified: [], deleted: [], untracked: [] },
    hashed: 0,
  }
  for (const [file, staged, cached, committed] of stagedAndCommitted(
    paths,
    walkEntity(paths.dir, metadataFiles(ref)),
  )) {
    const path = (file ?? staged ?? cached ?? committed)?.path as string
    if (staged && !committed) status.staged.added.push(path)
    else if (!staged && committed) status.staged.deleted.push(path)
    else if (staged && committed && (staged.id !== committed.id || staged.mode !== committed.mode))
      status.staged.modified.push(path)
    if (!file) {
      if (staged && !head.partial) status.unstaged.deleted.push(path)
      continue
    }
    if (!staged) {
      status.unstaged.untracked.push(path)
      continue
    }
    let same = cached !== undefined && cached.id === staged.id
    if (same && cached && cached.stamp !== stampOf(file.stat)) {
      status.hashed++
      same = file.stat.size === staged.size && hashFileSync(file.abs).sha256 === cached.sha256
    }
    if (!same || modeOf(file.stat) !== staged.mode) status.unstaged.modified.push(path)
  }
  return status
}
