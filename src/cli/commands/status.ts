import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type FoundStub,
  fileIdentity,
  findStubs,
  formatStub,
  indexBlobs,
  openStatCache,
  sameIdentity,
  statEntry,
  treeBlobs,
} from '../../git/index.ts'
import { loadRemoteIndex } from '../../remote/index.ts'
import { isComplete, parseId, type Store, sha256File } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { type GitContext, openConfiguredRemote, requireGit, warnIfNotInstalled } from '../repo.ts'
import { quote } from '../text.ts'

export type FileState = 'materialized' | 'stub' | 'modified' | 'absent'

export interface FileStatus {
  path: string
  size: number
  id: string
  workTree: FileState
  /** The content is in the local store. */
  local: boolean
  /** The content is on the default remote (undefined: no remote configured or reachable). */
  remote: boolean | undefined
}

async function workTreeState(
  ctx: GitContext,
  found: FoundStub,
  cache: Awaited<ReturnType<typeof openStatCache>>,
): Promise<FileState> {
  const identity = await fileIdentity(join(ctx.workTree, found.path))
  if (!identity) return 'absent'
  const text = formatStub(found.stub)
  const cached = cache.get(found.path)
  if (cached && cached.stub === text && sameIdentity(cached, identity)) return 'materialized'
  const abs = join(ctx.workTree, found.path)
  if (identity.size === Buffer.byteLength(text) && (await readFile(abs, 'utf8')) === text)
    return 'stub'
  if (identity.size !== found.stub.size) return 'modified'
  const sha256 = await sha256File(abs)
  if (sha256 !== found.stub.sha256) return 'modified'
  cache.set(found.path, statEntry(identity, sha256, text))
  return 'materialized'
}

async function remotePresence(
  ctx: GitContext,
  store: Store,
  io: Io,
): Promise<((id: string) => boolean) | undefined> {
  try {
    const index = await loadRemoteIndex(store, await openConfiguredRemote(ctx))
    return (id) => index.lookup(parseId(id).digest) !== undefined
  } catch (err) {
    io.warn(`mlvc: remote not checked: ${(err as Error).message}`)
    return undefined
  }
}

/** Tracked files in the index: work-tree state, local store, remote; raw commits are errors. */
export async function status(io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const installed = await warnIfNotInstalled(ctx, io)
  const { stubs, raw, bad } = await findStubs(ctx.workTree, await indexBlobs(ctx.workTree))
  const cache = await openStatCache(ctx.git.gitDir)
  const files = await withRepoStore(ctx, async (store) => {
    const onRemote = await remotePresence(ctx, store, io)
    const rows: FileStatus[] = []
    for (const found of stubs) {
      rows.push({
        path: found.path,
        size: found.stub.size,
        id: found.stub.id,
        workTree: await workTreeState(ctx, found, cache),
        local: await isComplete(store, found.stub.id),
        remote: onRemote?.(found.stub.id),
      })
    }
    return rows
  })
  await cache.save()
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
export async function lsFiles(rev: string | undefined, io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const { stubs, bad } = await findStubs(ctx.workTree, await treeBlobs(ctx.workTree, rev ?? 'HEAD'))
  for (const b of bad) io.warn(`mlvc: ${b.problem.message}; not listed`)
  const rows = await withRepoStore(ctx, async (store) => {
    const out = []
    for (const s of stubs)
      out.push({
        path: s.path,
        size: s.stub.size,
        sha256: s.stub.sha256,
        id: s.stub.id,
        local: await isComplete(store, s.stub.id),
      })
    return out
  })
  const text = rows
    .map(
      (r) =>
        `${r.id.slice(0, 16)}… ${r.local ? '*' : '-'} ${formatBytes(r.size).padStart(10)}  ${quote(r.path)}`,
    )
    .join('\n')
  return { data: rows, text }
}
