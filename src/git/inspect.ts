import { dirname, posix, relative, resolve, sep } from 'node:path'
import {
  type CheckpointVersion,
  combineVersions,
  inspectVersion,
  openVersion,
  type TensorRow,
  type VersionSource,
  whyNotCheckpoint,
} from '../checkpoint/index.ts'
import { MlvcError, type ProgressOptions } from '../core/index.ts'
import { isDType, isShardIndexPath, parseShardIndex, readShardIndex } from '../formats/index.ts'
import type { Store } from '../store/index.ts'
import { objectInfo, readObjects } from './cat-file.ts'
import { type FileVersion, workTreeVersion } from './diff-sides.ts'
import { runGit } from './exec.ts'
import type { WorkTreeRef } from './session.ts'
import { openStatCache } from './stat-cache.ts'
import { MAX_STUB_BYTES, parseStub } from './stub.ts'

/** A local file: the stub's table when the work tree's stat cache vouches for it, else its bytes. */
async function localFile(abs: string, git: WorkTreeRef | undefined): Promise<FileVersion> {
  const path = git ? relative(git.workTree, abs).split(sep).join('/') : ''
  if (!git || path.startsWith('..')) return { path: abs, file: abs }
  const statCache = await openStatCache(git.gitDir)
  const options = { workTree: git.workTree, statCache, noData: false }
  return (await workTreeVersion(path, undefined, options)) ?? { path: abs, file: abs }
}

/** A local file (or a shard index's shards) as versions; `git`: the work tree around it, if any. */
export async function localVersions(
  abs: string,
  git: WorkTreeRef | undefined,
): Promise<FileVersion[]> {
  if (!isShardIndexPath(abs)) return [await localFile(abs, git)]
  const index = await readShardIndex(abs)
  const out: FileVersion[] = []
  for (const shard of index.shards) out.push(await localFile(resolve(dirname(abs), shard), git))
  return out
}

/** Where `REV:PATH` specs are read: the work tree, and the folder `./PATH` is relative to. */
export interface RevisionScope {
  workTree: string
  cwd: string
}

/** The blob at `REV:PATH` (read only when small enough to be a stub or an index). */
async function blobAt(scope: RevisionScope, spec: string): Promise<Buffer> {
  const result = await runGit(['rev-parse', '--verify', '-q', spec], { cwd: scope.cwd })
  const sha = result.stdout.toString().trim()
  if (result.code !== 0 || !sha) {
    throw new MlvcError('NOT_FOUND', `${spec}: no such revision and path`, {
      hint: 'give REV:PATH with PATH from the top of the repository (or ./PATH), or a file',
    })
  }
  const size = (await objectInfo(scope.workTree, [sha])).get(sha)?.size ?? 0
  if (size > MAX_STUB_BYTES) {
    throw new MlvcError('NOT_FOUND', `${spec} is not stored by mlvc (git holds its bytes)`)
  }
  return (await readObjects(scope.workTree, [sha])).get(sha) ?? Buffer.alloc(0)
}

async function stubAt(scope: RevisionScope, spec: string, path: string): Promise<FileVersion> {
  const stub = parseStub(await blobAt(scope, spec), path)
  if (!stub) throw new MlvcError('NOT_FOUND', `${spec} is not a file stored by mlvc`)
  return { path, stub }
}

/** `REV:PATH` from git: the stub (no data needed), or an index and its shards' stubs. */
export async function revisionVersions(scope: RevisionScope, spec: string): Promise<FileVersion[]> {
  const colon = spec.indexOf(':')
  const rev = spec.slice(0, colon)
  const given = spec.slice(colon + 1)
  const path = /^\.\.?\//.test(given)
    ? relative(scope.workTree, resolve(scope.cwd, given)).split(sep).join('/')
    : given
  if (!isShardIndexPath(path)) return [await stubAt(scope, spec, path)]
  const index = parseShardIndex(spec, (await blobAt(scope, spec)).toString('utf8'))
  const out: FileVersion[] = []
  for (const shard of index.shards) {
    const shardPath = posix.join(posix.dirname(path), shard)
    out.push(await stubAt(scope, `${rev}:${shardPath}`, shardPath))
  }
  return out
}

export interface InspectOptions extends ProgressOptions {
  /** The store stubs' data is read from (none: statistics from the stubs alone). */
  store: Store | undefined
  /** Combine the versions as one sharded checkpoint, even a single one. */
  sharded: boolean
}

/**
 * A version opened without its data first: statistics usually come with the table, and making the
 * data readable means checking that the store holds every part of the file. Reopened with the
 * data only when some tensor's statistics must be computed.
 */
async function openForStats(source: VersionSource, store: Store | undefined) {
  // A file not stored by mlvc has no statistics but what its data gives.
  if (source.id === undefined) return openVersion(source, { store })
  const version = await openVersion(source, { store, data: false })
  if (!version?.tensors.some((t) => !t.stats && isDType(t.dtype))) return version
  await version.close()
  return openVersion(source, { store })
}

/**
 * The tensors of a checkpoint given as versions (one file, or the shards of one): name, dtype,
 * shape, size and statistics. Throws BAD_FORMAT naming a file that is not a checkpoint.
 */
export async function inspectVersions(
  files: readonly FileVersion[],
  options: InspectOptions,
): Promise<{ format: string; rows: TensorRow[] }> {
  const versions: CheckpointVersion[] = []
  try {
    for (const f of files) {
      const source = { id: f.stub?.id, stubLines: f.stub?.extra, file: f.file, path: f.path }
      const version = await openForStats(source, options.store)
      if (!version) {
        const why = await whyNotCheckpoint(source, f.path)
        throw new MlvcError('BAD_FORMAT', `${f.path}: not a checkpoint mlvc can read: ${why}`, {
          hint: 'mlvc inspect reads safetensors, PyTorch, ONNX, GGUF, .npy and .npz files',
        })
      }
      versions.push(version)
    }
    const [first] = versions
    const version =
      versions.length === 1 && first && !options.sharded
        ? first
        : combineVersions(versions, first?.format ?? 'safetensors')
    const rows = await inspectVersion(version, {
      signal: options.signal,
      onProgress: options.onProgress,
    })
    return { format: version.format, rows }
  } finally {
    for (const v of versions) await v.close()
  }
}
