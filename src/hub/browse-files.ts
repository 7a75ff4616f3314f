import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  type CheckpointDiff,
  type CheckpointVersion,
  diffCheckpoints,
  inspectVersion,
  openVersion,
  type TensorRow,
  tensorDeltas,
} from '../checkpoint/index.ts'
import { MAX_STUB_BYTES, readObjects, readStub, type Stub } from '../git/index.ts'
import { fetchObjects, MARKER_KEY } from '../remote/index.ts'
import { openStore, type Store, streamContent } from '../store/index.ts'
import type { Repo } from './accounts.ts'
import { HubHttpError } from './http.ts'
import type { Hub } from './hub.ts'

/**
 * What a file in a hub repository is, for the browsing API: Git's blob, or — for a tracked file —
 * what its stub names. A checkpoint's tensor table comes from its stub (or the table the stub
 * names); bytes come from the repository's objects, fetched into a cache store of the hub's
 * (DATA/browse/<repo id>) on first use and verified like every mlvc read.
 */
export interface BlobFacts {
  sha: string
  /** Bytes Git holds (the stub's own size for a tracked file). */
  gitSize: number
  stub?: Stub
  /** A stub that cannot be read (malformed, or newer), with why. */
  badStub?: string
}

const caches = new WeakMap<Hub, Map<string, Promise<Store>>>()

/** The hub's cache store for one repository's objects (opened once per hub process). */
export function browseStore(hub: Hub, repo: Repo): Promise<Store> {
  const byRepo = caches.get(hub) ?? new Map<string, Promise<Store>>()
  caches.set(hub, byRepo)
  let store = byRepo.get(repo.id)
  if (!store) {
    store = openStore(join(hub.config.data, 'browse', repo.id), { create: true, fsync: false })
    byRepo.set(repo.id, store)
    store.catch(() => byRepo.delete(repo.id))
  }
  return store
}

/** Reads blobs small enough to be stubs and tells which are. */
export async function blobFacts(
  gitDir: string,
  blobs: ReadonlyArray<{ sha: string; size: number; path: string }>,
): Promise<Map<string, BlobFacts>> {
  const small = blobs.filter((b) => b.size <= MAX_STUB_BYTES)
  const data = await readObjects(gitDir, [...new Set(small.map((b) => b.sha))])
  const facts = new Map<string, BlobFacts>()
  for (const blob of blobs) {
    const bytes = data.get(blob.sha)
    const reading = bytes ? readStub(bytes, blob.path) : undefined
    facts.set(blob.sha, {
      sha: blob.sha,
      gitSize: blob.size,
      ...(reading && 'stub' in reading ? { stub: reading.stub } : {}),
      ...(reading && 'problem' in reading ? { badStub: reading.problem.message } : {}),
    })
  }
  return facts
}

async function refuseEncrypted(hub: Hub, repo: Repo): Promise<void> {
  if (await hub.storage.remote(repo.id).head(MARKER_KEY)) {
    throw new HubHttpError(
      409,
      'MISSING_KEY',
      `${repo.owner}/${repo.name}: its objects are encrypted; the hub cannot read them`,
      { hint: 'clone the repository with its key to see the content' },
    )
  }
}

/** Makes the cache store hold `ids` and everything they need, from the repository's objects. */
export async function cacheObjects(hub: Hub, repo: Repo, ids: readonly string[]): Promise<Store> {
  const store = await browseStore(hub, repo)
  const wanted = []
  for (const id of ids) if (!(await store.has(id))) wanted.push(id)
  if (wanted.length === 0) return store
  await refuseEncrypted(hub, repo)
  const report = await fetchObjects(store, hub.storage.remote(repo.id), wanted)
  if (report.missing.length > 0) {
    throw new HubHttpError(
      422,
      'MISSING_OBJECT',
      `${repo.owner}/${repo.name}: the hub lacks ${report.missing.length} object(s) of this file (${report.missing[0]})`,
      { hint: 'push the data again with mlvc push' },
    )
  }
  return store
}

/** The stub's table id, when the stub names one instead of listing its tensors. */
function tableOf(stub: Stub): string | undefined {
  return stub.extra?.find((line) => line.startsWith('table: '))?.slice(7)
}

/**
 * A checkpoint version from a stub; undefined when the stub is not a checkpoint's. With `data`,
 * its objects are fetched into the cache so that tensors can be read (exact diff figures).
 */
export async function checkpointOf(
  hub: Hub,
  repo: Repo,
  stub: Stub,
  options: { path: string; data: boolean },
): Promise<CheckpointVersion | undefined> {
  if (!stub.extra?.some((line) => line.startsWith('format: '))) return undefined
  const table = tableOf(stub)
  const needs = options.data ? [stub.id] : table ? [table] : []
  const store = needs.length > 0 ? await cacheObjects(hub, repo, needs) : undefined
  return openVersion(
    { id: stub.id, stubLines: stub.extra, path: options.path },
    { store: options.data ? store : undefined, tables: store, data: options.data },
  )
}

/** A checkpoint's format and tensor table (name, dtype, shape, statistics). */
export async function tensorTable(
  hub: Hub,
  repo: Repo,
  stub: Stub,
  path: string,
): Promise<{ format: string; tensors: TensorRow[] } | undefined> {
  const version = await checkpointOf(hub, repo, stub, { path, data: false })
  if (!version) return undefined
  try {
    return { format: version.format, tensors: await inspectVersion(version) }
  } finally {
    await version.close()
  }
}

/**
 * Both versions' bytes together up to which a diff reads the data (exact changed fraction,
 * ‖Δ‖/‖A‖, cosine); above it the diff comes from the stubs' statistics (bounds), so that opening a
 * comparison of two large checkpoints does not copy them into the cache.
 */
export const EXACT_DIFF_BYTES = 512 * 1024 * 1024

/** The tensor-level diff of two versions of a checkpoint (either may be absent: added, removed). */
export async function checkpointDiff(
  hub: Hub,
  repo: Repo,
  sides: { old?: Stub | undefined; new?: Stub | undefined; path: string },
): Promise<CheckpointDiff | undefined> {
  const data = (sides.old?.size ?? 0) + (sides.new?.size ?? 0) <= EXACT_DIFF_BYTES
  const open = (stub: Stub | undefined) =>
    stub ? checkpointOf(hub, repo, stub, { path: sides.path, data }) : undefined
  const a = await open(sides.old)
  const b = await open(sides.new)
  try {
    if (!a && !b) return undefined
    return await diffCheckpoints(a, b, { data })
  } finally {
    await a?.close()
    await b?.close()
  }
}

/** Streams a tracked file's bytes (verified against its sha256 as they stream). */
export async function streamTracked(
  hub: Hub,
  repo: Repo,
  stub: Stub,
): Promise<AsyncIterable<Uint8Array>> {
  const store = await cacheObjects(hub, repo, [stub.id])
  return streamContent(store, stub.id, { deltas: tensorDeltas() })
}

/** Streams a Git blob's bytes into `out`. */
export async function streamBlob(
  gitDir: string,
  sha: string,
  out: NodeJS.WritableStream,
): Promise<void> {
  const child = spawn('git', ['cat-file', 'blob', sha], {
    cwd: gitDir,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  await pipeline(child.stdout, out)
}

/** Streams an async iterable of bytes into `out`. */
export function pipeBytes(
  bytes: AsyncIterable<Uint8Array>,
  out: NodeJS.WritableStream,
): Promise<void> {
  return pipeline(Readable.from(bytes), out)
}

/** True when the bytes look like text (no NUL in the first 8000, as Git decides). */
export function looksLikeText(bytes: Uint8Array): boolean {
  return !bytes.subarray(0, 8000).includes(0)
}
