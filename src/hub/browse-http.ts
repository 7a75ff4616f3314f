import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { readObjects } from '../git/index.ts'
import type { Repo } from './accounts.ts'
import { authorize } from './auth.ts'
import { entityDiff, listEntityVersions } from './browse-data.ts'
import { listRuns, runCurves } from './browse-exp.ts'
import {
  type BlobFacts,
  blobFacts,
  checkpointDiff,
  looksLikeText,
  pipeBytes,
  streamBlob,
  streamTracked,
  tensorTable,
} from './browse-files.ts'
import {
  blobAt,
  changedFiles,
  checkPath,
  commitLog,
  commitsBetween,
  defaultBranch,
  listBranches,
  listTree,
  resolveCommit,
  textDiff,
} from './browse-git.ts'
import { HubHttpError, sendJson } from './http.ts'
import type { Hub } from './hub.ts'
import type { Caller } from './tokens.ts'

/**
 * The browsing API (docs/hub-api.md, "Browsing"): read-only views of a repository for the web app
 * and scripts — branches, folders and files at any revision, history, comparisons with
 * tensor-level diffs, and the experiments a commit holds. Everything here needs `read` on the
 * repository; a private repository the caller may not read answers 404 (401 when anonymous).
 */
const VIEWS = [
  'branches',
  'tree',
  'commits',
  'file',
  'tensors',
  'raw',
  'compare',
  'runs',
  'curves',
  'entities',
  'entity-diff',
] as const
type View = (typeof VIEWS)[number]

/** True for /api/v1/repos/OWNER/NAME/VIEW (what handleBrowse answers). */
export function isBrowseRoute(method: string, path: readonly string[]): boolean {
  return (
    method === 'GET' &&
    path.length === 4 &&
    path[0] === 'repos' &&
    (VIEWS as readonly string[]).includes(path[3] ?? '')
  )
}

interface Ctx {
  hub: Hub
  repo: Repo
  gitDir: string
  query: URLSearchParams
  res: ServerResponse
}

function intParam(query: URLSearchParams, key: string, fallback: number, max: number): number {
  const raw = query.get(key)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0)
    throw new HubHttpError(400, 'USAGE', `${key} must be a whole number`)
  return Math.min(value, max)
}

async function revOf(ctx: Ctx, key = 'rev'): Promise<{ rev: string; commit: string }> {
  const rev = ctx.query.get(key) ?? (await defaultBranch(ctx.gitDir)) ?? 'main'
  return { rev, commit: await resolveCommit(ctx.gitDir, rev) }
}

/** Tree entries with what each tracked file is (size and hash of the content, not the stub). */
async function treeView(ctx: Ctx) {
  const { rev, commit } = await revOf(ctx)
  const path = checkPath(ctx.query.get('path') ?? '')
  const entries = await listTree(ctx.gitDir, commit, path)
  const facts = await blobFacts(
    ctx.gitDir,
    entries.flatMap((e) =>
      e.type === 'blob' ? [{ sha: e.sha, size: e.size ?? 0, path: e.path }] : [],
    ),
  )
  return {
    rev,
    commit,
    path,
    entries: entries.map((e) => {
      const stub = facts.get(e.sha)?.stub
      return {
        name: e.name,
        path: e.path,
        type: e.type,
        size: stub ? stub.size : e.size,
        tracked: stub !== undefined,
        ...(stub ? { format: formatOf(stub.extra) } : {}),
      }
    }),
  }
}

function formatOf(extra: readonly string[] | undefined): string | null {
  return extra?.find((l) => l.startsWith('format: '))?.slice(8) ?? null
}

async function factsAt(
  ctx: Ctx,
  commit: string,
  path: string,
): Promise<BlobFacts & { path: string }> {
  const blob = await blobAt(ctx.gitDir, commit, path)
  const facts = (await blobFacts(ctx.gitDir, [{ ...blob, path }])).get(blob.sha) as BlobFacts
  return { ...facts, path }
}

const TEXT_PREVIEW = 512 * 1024

async function fileView(ctx: Ctx) {
  const { rev, commit } = await revOf(ctx)
  const path = checkPath(ctx.query.get('path') ?? '')
  const facts = await factsAt(ctx, commit, path)
  const base = { rev, commit, path, blob: facts.sha }
  if (facts.stub) {
    const { size, sha256, id } = facts.stub
    const format = formatOf(facts.stub.extra)
    const count = facts.stub.extra?.find((l) => l.startsWith('tensors: '))?.slice(9)
    return {
      ...base,
      kind: format ? 'checkpoint' : 'tracked',
      size,
      sha256,
      id,
      format,
      tensors: count === undefined ? null : Number(count),
    }
  }
  if (facts.badStub)
    return { ...base, kind: 'bad-stub', size: facts.gitSize, problem: facts.badStub }
  if (facts.gitSize > TEXT_PREVIEW) return { ...base, kind: 'binary', size: facts.gitSize }
  const data = (await readObjects(ctx.gitDir, [facts.sha])).get(facts.sha) ?? Buffer.alloc(0)
  return looksLikeText(data)
    ? { ...base, kind: 'text', size: facts.gitSize, text: data.toString('utf8') }
    : { ...base, kind: 'binary', size: facts.gitSize }
}

async function tensorsView(ctx: Ctx) {
  const { rev, commit } = await revOf(ctx)
  const path = checkPath(ctx.query.get('path') ?? '')
  const facts = await factsAt(ctx, commit, path)
  const table = facts.stub ? await tensorTable(ctx.hub, ctx.repo, facts.stub, path) : undefined
  if (!table)
    throw new HubHttpError(404, 'NOT_FOUND', `${path} at ${rev} is not a tracked checkpoint`)
  return { rev, commit, path, ...table }
}

/** Streams a file's content: a tracked file's bytes from the store, else Git's blob. */
async function rawView(ctx: Ctx, req: IncomingMessage): Promise<void> {
  const { commit } = await revOf(ctx)
  const path = checkPath(ctx.query.get('path') ?? '')
  const facts = await factsAt(ctx, commit, path)
  const name = path.split('/').at(-1) ?? 'file'
  const headers = {
    'content-type': 'application/octet-stream',
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    'cache-control': 'private, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
  }
  if (facts.stub) {
    const bytes = await streamTracked(ctx.hub, ctx.repo, facts.stub)
    ctx.res.writeHead(200, {
      ...headers,
      'content-length': String(facts.stub.size),
      etag: `"${facts.stub.sha256}"`,
    })
    if (req.method === 'HEAD') return void ctx.res.end()
    return pipeBytes(bytes, ctx.res)
  }
  ctx.res.writeHead(200, {
    ...headers,
    'content-length': String(facts.gitSize),
    etag: `"${facts.sha}"`,
  })
  if (req.method === 'HEAD') return void ctx.res.end()
  return streamBlob(ctx.gitDir, facts.sha, ctx.res)
}

const MAX_COMPARE_FILES = 300

/** Two revisions compared: commits between them, and per file a code diff or a tensor diff. */
async function compareView(ctx: Ctx) {
  const head = await revOf(ctx, 'head')
  const baseRev = ctx.query.get('base')
  const base = baseRev
    ? { rev: baseRev, commit: await resolveCommit(ctx.gitDir, baseRev) }
    : { rev: `${head.rev}^`, commit: await parentOf(ctx, head.commit) }
  const range = { base: base.commit, head: head.commit }
  const changed = await changedFiles(ctx.gitDir, base.commit, head.commit)
  const shown = changed.slice(0, MAX_COMPARE_FILES)
  const zero = /^0+$/
  const blobs = shown.flatMap((f) => [
    ...(zero.test(f.oldSha) ? [] : [{ sha: f.oldSha, size: 0, path: f.from ?? f.path }]),
    ...(zero.test(f.newSha) ? [] : [{ sha: f.newSha, size: 0, path: f.path }]),
  ])
  const facts = await blobFacts(ctx.gitDir, blobs)
  const files = []
  for (const f of shown) {
    const a = facts.get(f.oldSha)?.stub
    const b = facts.get(f.newSha)?.stub
    const entry = { path: f.path, status: f.status, ...(f.from ? { from: f.from } : {}) }
    if (a || b) {
      const tensors = await checkpointDiff(ctx.hub, ctx.repo, { old: a, new: b, path: f.path })
      const side = (s: typeof a) => (s ? { size: s.size, sha256: s.sha256 } : null)
      files.push({
        ...entry,
        kind: tensors ? 'checkpoint' : 'tracked',
        old: side(a),
        new: side(b),
        tensors: tensors ?? null,
      })
    } else {
      files.push({ ...entry, kind: 'text', ...(await textDiff(ctx.gitDir, range, f)) })
    }
  }
  return {
    base: { rev: base.rev, commit: base.commit },
    head,
    commits: await commitsBetween(ctx.gitDir, base.commit, head.commit),
    files,
    truncated: changed.length > shown.length,
  }
}

/** A commit's first parent, or the empty tree for a root commit. */
async function parentOf(ctx: Ctx, commit: string): Promise<string> {
  const [info] = await commitLog(ctx.gitDir, commit, { limit: 1 })
  return info?.parents[0] ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
}

async function answer(ctx: Ctx, view: View, req: IncomingMessage): Promise<unknown> {
  switch (view) {
    case 'branches':
      return {
        default: (await defaultBranch(ctx.gitDir)) ?? null,
        branches: await listBranches(ctx.gitDir),
      }
    case 'tree':
      return treeView(ctx)
    case 'commits': {
      const { rev, commit } = await revOf(ctx)
      const path = ctx.query.get('path') ?? undefined
      const limit = intParam(ctx.query, 'limit', 50, 500)
      const skip = intParam(ctx.query, 'skip', 0, 1_000_000)
      return { rev, commit, commits: await commitLog(ctx.gitDir, commit, { path, limit, skip }) }
    }
    case 'file':
      return fileView(ctx)
    case 'tensors':
      return tensorsView(ctx)
    case 'raw':
      return rawView(ctx, req)
    case 'compare':
      return compareView(ctx)
    case 'runs': {
      const { rev, commit } = await revOf(ctx)
      return { rev, commit, runs: await listRuns(ctx.gitDir, commit) }
    }
    case 'curves': {
      const { rev, commit } = await revOf(ctx)
      const ids = (ctx.query.get('ids') ?? '').split(',').filter((s) => s !== '')
      const key = ctx.query.get('key') ?? ''
      const points = intParam(ctx.query, 'points', 1000, 20_000)
      return { rev, commit, ...(await runCurves(ctx.gitDir, commit, { ids, key, points })) }
    }
    case 'entities':
      return { entities: await listEntityVersions(ctx.hub, ctx.repo) }
    case 'entity-diff':
      return entityDiff(ctx.hub, ctx.repo, {
        kind: ctx.query.get('kind') ?? 'dataset',
        from: ctx.query.get('from') ?? '',
        to: ctx.query.get('to') ?? '',
      })
  }
}

/**
 * Answers that depend only on commits (which never change) are kept, a few at a time: the
 * experiments page asks for the runs and their curves, each of which parses every log.
 */
const MEMO_VIEWS = new Set<View>(['runs', 'curves', 'tensors', 'compare'])
const MEMO_SIZE = 16
const memo = new Map<string, unknown>()

async function remembered(key: string, compute: () => Promise<unknown>): Promise<unknown> {
  const known = memo.get(key)
  if (known !== undefined) {
    memo.delete(key)
    memo.set(key, known)
    return known
  }
  const value = await compute()
  memo.set(key, value)
  if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value as string)
  return value
}

/** The commits a request's revisions name, resolved: the part of a memo key that names content. */
async function commitsOf(ctx: Ctx): Promise<string> {
  const out = []
  for (const key of ['rev', 'base', 'head']) {
    const rev = ctx.query.get(key)
    if (rev !== null) out.push(`${key}=${await resolveCommit(ctx.gitDir, rev)}`)
  }
  if (ctx.query.get('rev') === null && ctx.query.get('head') === null)
    out.push(`default=${(await revOf(ctx)).commit}`)
  return out.join('&')
}

const gzipAsync = promisify(gzip)

/** JSON, gzip-compressed when the client accepts it and it is large (a 10,000-tensor table). */
async function sendBig(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const text = `${JSON.stringify(body)}\n`
  if (text.length < 32 * 1024 || !/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
    return sendJson(res, 200, body)
  const packed = await gzipAsync(text)
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-encoding': 'gzip',
    'content-length': packed.length,
    'cache-control': 'no-store',
    vary: 'accept-encoding',
  })
  res.end(packed)
}

/** GET /api/v1/repos/OWNER/NAME/VIEW?… (see VIEWS). */
export async function handleBrowse(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  path: readonly string[],
  caller: Caller | undefined,
): Promise<void> {
  req.resume()
  const { repo } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'read')
  const query = new URL(req.url ?? '/', 'http://hub').searchParams
  const ctx: Ctx = { hub, repo, gitDir: hub.gitDir(repo.id), query, res }
  const view = path[3] as View
  if (view === 'raw') return rawView(ctx, req)
  const body = MEMO_VIEWS.has(view)
    ? await remembered(
        `${repo.id} ${view} ${await commitsOf(ctx)} ${[...query].sort().join('&')}`,
        () => answer(ctx, view, req),
      )
    : await answer(ctx, view, req)
  return sendBig(req, res, body)
}
