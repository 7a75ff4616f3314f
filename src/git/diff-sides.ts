import { open, readFile } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { hashFile, isErrno } from '../core/index.ts'
import { isShardIndexPath, parseShardIndex } from '../formats/index.ts'
import { readObjects } from './cat-file.ts'
import { findStubs, type PathBlob } from './scan.ts'
import { fileIdentity, type StatCache, sameIdentity } from './stat-cache.ts'
import { looksLikeStub, MAX_STUB_BYTES, parseStub, readStub, type Stub } from './stub.ts'

/** One version of a tracked path: the stub git has for it, a local copy of its bytes, or both. */
export interface FileVersion {
  path: string
  stub?: Stub | undefined
  /** Absolute path of a file holding exactly this version's bytes. */
  file?: string | undefined
}

/** The tracked files of one side of a diff, and its sharded checkpoints' indexes. */
export interface Listing {
  files: Map<string, FileVersion>
  /** `*.index.json` path → the shard paths it lists (repository-relative). */
  indexes: Map<string, string[]>
}

/** Shard paths listed by a sharded checkpoint's index, or undefined when it is not one. */
function shardPaths(path: string, text: string): string[] | undefined {
  try {
    const index = parseShardIndex(path, text)
    return index.shards.map((s) => posix.join(posix.dirname(path), s))
  } catch {
    return undefined
  }
}

/** A listing of blobs (a commit's tree or git's index): stubs, and indexes read from git. */
export async function blobListing(cwd: string, blobs: readonly PathBlob[]): Promise<Listing> {
  const { stubs } = await findStubs(cwd, blobs)
  const files = new Map(stubs.map((s) => [s.path, { path: s.path, stub: s.stub }]))
  const indexBlobs = blobs.filter((b) => isShardIndexPath(b.path) && !files.has(b.path))
  const indexes = new Map<string, string[]>()
  if (indexBlobs.length === 0) return { files, indexes }
  const contents = await readObjects(cwd, [...new Set(indexBlobs.map((b) => b.sha))])
  for (const blob of indexBlobs) {
    const shards = shardPaths(blob.path, (contents.get(blob.sha) ?? Buffer.alloc(0)).toString())
    if (shards) indexes.set(blob.path, shards)
  }
  return { files, indexes }
}

/** Whether a file starts with the stub signature (its first bytes only are read). */
export async function startsLikeStub(abs: string): Promise<boolean> {
  const handle = await open(abs, 'r')
  try {
    const head = Buffer.alloc(16)
    const { bytesRead } = await handle.read(head, 0, 16, 0)
    return looksLikeStub(head.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}

/** The stub in a file, if the file is one (a tracked file whose data was never written). */
async function stubInFile(abs: string, size: number, path: string): Promise<Stub | undefined> {
  if (size > MAX_STUB_BYTES || !(await startsLikeStub(abs))) return undefined
  return parseStub(await readFile(abs), path)
}

export interface WorkTreeOptions {
  workTree: string
  statCache: StatCache
  /** Never read file data: a file the stat cache does not vouch for is known by its header only. */
  noData: boolean
}

/**
 * A work-tree file as a version: its stub when the stat cache vouches for it (or when its sha256
 * matches `expected`, the stub git has), the stub itself when the data was never written, else the
 * bytes alone (a change not added yet). Undefined when the file is absent.
 */
export async function workTreeVersion(
  path: string,
  expected: Stub | undefined,
  options: WorkTreeOptions,
): Promise<FileVersion | undefined> {
  const abs = join(options.workTree, path)
  const identity = await fileIdentity(abs)
  if (!identity) return undefined
  const cached = options.statCache.get(path)
  if (cached && sameIdentity(cached, identity)) {
    // A stub mlvc left in the work tree is cached as it is, and may be unusable.
    const reading = readStub(Buffer.from(cached.stub), path)
    if (reading && 'stub' in reading) return { path, stub: reading.stub, file: abs }
  }
  const asStub = await stubInFile(abs, identity.size, path)
  if (asStub) return { path, stub: asStub }
  if (!options.noData && expected && identity.size === expected.size) {
    if ((await hashFile(abs)).sha256 === expected.sha256) return { path, stub: expected, file: abs }
  }
  return { path, file: abs }
}

/** The work tree's side of `paths` (tracked files) and of the indexes git tracks. */
export async function workTreeListing(
  tracked: Listing,
  expected: Listing,
  options: WorkTreeOptions,
): Promise<Listing> {
  const files = new Map<string, FileVersion>()
  for (const path of tracked.files.keys()) {
    const version = await workTreeVersion(path, expected.files.get(path)?.stub, options)
    if (version) files.set(path, version)
  }
  const indexes = new Map<string, string[]>()
  for (const path of tracked.indexes.keys()) {
    try {
      const shards = shardPaths(path, await readFile(join(options.workTree, path), 'utf8'))
      if (shards) indexes.set(path, shards)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return { files, indexes }
}
