import { MlvcError } from '../../core/index.ts'
import {
  type BadStub,
  type FoundStub,
  findStubs,
  indexBlobs,
  type PathBlob,
  stubMismatch,
  treeBlobs,
} from '../../git/index.ts'
import { chooseRemote, openRemote, repairFromRemote } from '../../remote/index.ts'
import { type FsckIssue, fsckStore, readManifest, type Store } from '../../store/index.ts'
import { type RepoContext, repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { freshConfig, requireGit } from '../repo.ts'
import { quote } from '../text.ts'

/** Problems of the Git side: a file committed raw, a stub that cannot be used or that lies. */
export type GitIssue = {
  kind: 'raw-commit' | 'bad-stub' | 'stub-mismatch'
  severity: 'error'
  path: string
  /** Where the file is: HEAD, the index, or both. */
  where: string[]
  message: string
}

export type RepoIssue = FsckIssue | GitIssue

export interface FsckCommandOptions {
  /** Fetch good copies of damaged and missing objects from a remote. */
  repair: boolean
  /** The remote to repair from (default: the default remote). */
  remote: string | undefined
}

type Source = 'HEAD' | 'index'

/** Blobs found in HEAD and the index, once per path and blob, with where each was found. */
function tagged<T extends PathBlob>(
  items: T[],
  sources: Map<string, Source[]>,
): Array<T & { where: string[] }> {
  const seen = new Set<string>()
  const out: Array<T & { where: string[] }> = []
  for (const item of items) {
    const key = `${item.sha}\0${item.path}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ ...item, where: sources.get(key) ?? [] })
  }
  return out
}

const label = (path: string, where: string[]) => `${quote(path)} (${where.join(', ')})`

interface GitSide {
  roots: Array<{ id: string; from: string }>
  stubs: Array<FoundStub & { where: string[] }>
  issues: GitIssue[]
}

/** Files that HEAD and the index need (each must be in the store with all its chunks), and bad ones. */
async function gitSide(ctx: RepoContext): Promise<GitSide> {
  const workTree = ctx.git?.workTree
  if (!workTree) return { roots: [], stubs: [], issues: [] }
  const head = await treeBlobs(workTree, 'HEAD').catch(() => [])
  const index = await indexBlobs(workTree)
  const sources = new Map<string, Source[]>()
  for (const [source, blobs] of [
    ['HEAD', head],
    ['index', index],
  ] as const) {
    for (const blob of blobs) {
      const key = `${blob.sha}\0${blob.path}`
      const list = sources.get(key) ?? []
      if (!list.includes(source)) list.push(source)
      sources.set(key, list)
    }
  }
  const found = await findStubs(workTree, [...head, ...index])
  const stubs = tagged(found.stubs, sources)
  const issues: GitIssue[] = []
  for (const r of tagged(found.raw, sources)) {
    issues.push({
      kind: 'raw-commit',
      severity: 'error',
      path: r.path,
      where: r.where,
      message: `${label(r.path, r.where)}: tracked by mlvc but committed raw (run mlvc install, then git add --renormalize .)`,
    })
  }
  for (const b of tagged<BadStub>(found.bad, sources)) {
    const message = `${b.problem.message.replace(b.path, label(b.path, b.where))}`
    issues.push({ kind: 'bad-stub', severity: 'error', path: b.path, where: b.where, message })
  }
  const roots = stubs.map((s) => ({ id: s.stub.id, from: label(s.path, s.where) }))
  return { roots, stubs, issues }
}

/** Stubs whose size or sha256 disagree with the manifest their id names (when it is here). */
async function mismatchedStubs(store: Store, stubs: GitSide['stubs']): Promise<GitIssue[]> {
  const issues: GitIssue[] = []
  for (const s of stubs) {
    if (!(await store.has(s.stub.id))) continue
    // A damaged manifest is reported by the store check; it says nothing about the stub.
    const manifest = await readManifest(store, s.stub.id).catch(() => undefined)
    const mismatch = manifest && stubMismatch(s.stub, manifest)
    if (!mismatch) continue
    const message = `${label(s.path, s.where)}: ${mismatch}`
    issues.push({ kind: 'stub-mismatch', severity: 'error', path: s.path, where: s.where, message })
  }
  return issues
}

async function openRepairRemote(ctx: RepoContext, name: string | undefined) {
  const tree = ctx.git?.workTree ? await freshConfig(requireGit(ctx)) : ctx.config.tree
  return openRemote(chooseRemote(tree, name), ctx.root ?? ctx.cwd)
}

function summary(issues: readonly RepoIssue[]): string {
  const counts = new Map<string, number>()
  for (const i of issues)
    if (i.severity === 'error') counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1)
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  if (total === 0) return 'ok'
  const kinds = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')
  return `${total} ${total === 1 ? 'problem' : 'problems'} (${kinds})`
}

function describe(issue: RepoIssue): string {
  if (issue.kind === 'corrupt' && issue.usedBy.length > 0)
    return `${issue.kind}: ${issue.message} (needed by ${issue.usedBy.join(', ')})`
  return `${issue.kind}: ${issue.message}`
}

/**
 * Verifies the store and that the files of HEAD and the index are all present and their stubs
 * usable; with `repair`, first fetches good copies of damaged and missing objects from a remote.
 */
export async function fsck(options: FsckCommandOptions, io: Io): Promise<CommandResult> {
  if (options.remote !== undefined && !options.repair)
    throw new MlvcError('USAGE', '--remote names the remote to repair from', {
      hint: 'mlvc fsck --repair --remote NAME',
    })
  const ctx = await repoContext(io.cwd)
  const side = await gitSide(ctx)
  const remote = options.repair ? await openRepairRemote(ctx, options.remote) : undefined
  const result = await withRepoStore(ctx, async (store) => {
    const report = await fsckStore(store, { roots: side.roots, onProgress: io.onProgress })
    const errorsIn = (list: readonly FsckIssue[]) =>
      list.filter((i) => i.severity === 'error').length
    const found = errorsIn(report.issues)
    let repaired: number | undefined
    if (remote) {
      const repair = await repairFromRemote(store, remote, report.issues, {
        signal: io.signal,
        onProgress: io.onProgress,
      })
      repaired = found - errorsIn(repair.remaining)
      report.issues = repair.remaining
    }
    const issues: RepoIssue[] = [
      ...report.issues,
      ...side.issues,
      ...(await mismatchedStubs(store, side.stubs)),
    ]
    return { report, issues, repaired, found }
  })
  const { report, issues, repaired, found } = result
  const errors = issues.filter((i) => i.severity === 'error')
  const lines = issues.map(describe)
  if (remote && repaired !== undefined)
    lines.push(`repaired ${repaired} of ${found} problems in the store from remote ${remote.name}`)
  lines.push(
    `${summary(issues)}: ${report.objects} objects (${formatBytes(report.bytes)}) in ${report.packs} packs, ${report.manifests} manifests`,
  )
  const data = { ...report, issues, ...(remote ? { repaired, remote: remote.name } : {}) }
  return { data, text: lines.join('\n'), exitCode: errors.length === 0 ? 0 : 1 }
}
