import { type ProgressOptions, quote } from '../core/index.ts'
import { type Remote, repairFromRemote } from '../remote/index.ts'
import {
  type FsckIssue,
  type FsckReport,
  fsckStore,
  readManifest,
  type Store,
} from '../store/index.ts'
import {
  type BadStub,
  type FoundStub,
  findStubs,
  indexBlobs,
  type PathBlob,
  treeBlobs,
} from './scan.ts'
import { stubMismatch } from './stub-check.ts'

/** Where a file of the Git side was found. */
export type TreeSource = 'HEAD' | 'index'

/** Problems of the Git side: a file committed raw, a stub that cannot be used or that lies. */
export type GitIssue = {
  kind: 'raw-commit' | 'bad-stub' | 'stub-mismatch'
  severity: 'error'
  path: string
  /** Where the file is: HEAD, the index, or both. */
  where: TreeSource[]
  /** Names the file (quoted when it must be) and where it is, then what is wrong. */
  message: string
}

export type RepoIssue = FsckIssue | GitIssue

export interface RepoFsckOptions extends ProgressOptions {
  /** The work tree whose HEAD and index must be whole in the store; undefined outside Git. */
  workTree?: string | undefined
  /** Replace damaged and missing objects with good copies from this remote first. */
  repairFrom?: Remote | undefined
}

export interface RepoFsckResult {
  /** The store's figures; its issues are those left after a repair. */
  report: FsckReport
  /** The store's issues, then the Git side's. */
  issues: RepoIssue[]
  /** With `repairFrom`: the store's errors before the repair, and how many it fixed. */
  repair?: { remote: string; found: number; repaired: number }
}

type Tagged<T> = T & { where: TreeSource[] }

/** Blobs found in HEAD and the index, once per path and blob, with where each was found. */
function tagged<T extends PathBlob>(items: T[], sources: Map<string, TreeSource[]>): Tagged<T>[] {
  const seen = new Set<string>()
  const out: Tagged<T>[] = []
  for (const item of items) {
    const key = `${item.sha}\0${item.path}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ ...item, where: sources.get(key) ?? [] })
  }
  return out
}

const label = (path: string, where: readonly TreeSource[]) => `${quote(path)} (${where.join(', ')})`

interface GitSide {
  roots: Array<{ id: string; from: string }>
  stubs: Tagged<FoundStub>[]
  issues: GitIssue[]
}

/** Files that HEAD and the index need (each must be in the store with all its chunks), and bad ones. */
async function gitSide(workTree: string | undefined): Promise<GitSide> {
  if (!workTree) return { roots: [], stubs: [], issues: [] }
  const head = await treeBlobs(workTree, 'HEAD').catch(() => [])
  const index = await indexBlobs(workTree)
  const sources = new Map<string, TreeSource[]>()
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
  const issue = (kind: GitIssue['kind'], item: Tagged<PathBlob>, detail: string): GitIssue => {
    const message = `${label(item.path, item.where)}: ${detail}`
    return { kind, severity: 'error', path: item.path, where: item.where, message }
  }
  const issues: GitIssue[] = []
  for (const r of tagged(found.raw, sources)) {
    const detail =
      'tracked by mlvc but committed raw (run mlvc install, then git add --renormalize .)'
    issues.push(issue('raw-commit', r, detail))
  }
  for (const b of tagged<BadStub>(found.bad, sources))
    issues.push(issue('bad-stub', b, b.problem.detail))
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

const errorsIn = (list: readonly FsckIssue[]) => list.filter((i) => i.severity === 'error').length

/**
 * Verifies the store, and that the files of HEAD and the index are all present with every object
 * they need and that their stubs are usable and tell the truth; with `repairFrom`, first replaces
 * damaged and missing objects with good copies from that remote.
 */
export async function fsckRepository(
  store: Store,
  options: RepoFsckOptions = {},
): Promise<RepoFsckResult> {
  const side = await gitSide(options.workTree)
  const report = await fsckStore(store, { roots: side.roots, onProgress: options.onProgress })
  const remote = options.repairFrom
  let repair: RepoFsckResult['repair']
  if (remote) {
    const found = errorsIn(report.issues)
    const { remaining } = await repairFromRemote(store, remote, report.issues, {
      signal: options.signal,
      onProgress: options.onProgress,
    })
    repair = { remote: remote.name, found, repaired: found - errorsIn(remaining) }
    report.issues = remaining
  }
  const issues: RepoIssue[] = [
    ...report.issues,
    ...side.issues,
    ...(await mismatchedStubs(store, side.stubs)),
  ]
  return { report, issues, ...(repair ? { repair } : {}) }
}
