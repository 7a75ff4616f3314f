import { statSync } from 'node:fs'
import { dirname, posix, relative, resolve, sep } from 'node:path'
import {
  type CheckpointVersion,
  combineVersions,
  inspectVersion,
  openVersion,
  type VersionSource,
  whyNotCheckpoint,
} from '../../checkpoint/index.ts'
import { MlvcError } from '../../core/index.ts'
import { isDType, parseShardIndex, readShardIndex } from '../../formats/index.ts'
import {
  MAX_STUB_BYTES,
  objectInfo,
  openStatCache,
  parseStub,
  readObjects,
  runGit,
} from '../../git/index.ts'
import type { Store } from '../../store/index.ts'
import { openRepoStore, type RepoContext, repoContext } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { quote } from '../text.ts'
import { group, terminalColors } from './diff-render.ts'
import { type FileVersion, workTreeVersion } from './diff-sides.ts'
import { renderTensorTable } from './inspect-table.ts'

const isIndex = (path: string) => path.endsWith('.index.json')

/** A work-tree file: the stub's table when the stat cache vouches for it, else its own bytes. */
async function localFile(ctx: RepoContext, abs: string): Promise<FileVersion> {
  const workTree = ctx.git?.workTree
  const path = workTree ? relative(workTree, abs).split(sep).join('/') : ''
  if (!workTree || !ctx.git || path.startsWith('..')) return { path: abs, file: abs }
  const statCache = await openStatCache(ctx.git.gitDir)
  const options = { workTree, statCache, noData: false }
  return (await workTreeVersion(path, undefined, options)) ?? { path: abs, file: abs }
}

async function localFiles(ctx: RepoContext, abs: string): Promise<FileVersion[]> {
  if (!isIndex(abs)) return [await localFile(ctx, abs)]
  const index = await readShardIndex(abs)
  const out: FileVersion[] = []
  for (const shard of index.shards) out.push(await localFile(ctx, resolve(dirname(abs), shard)))
  return out
}

/** The blob at `REV:PATH` (read only when small enough to be a stub or an index). */
async function blobAt(ctx: GitContext, spec: string): Promise<Buffer> {
  const result = await runGit(['rev-parse', '--verify', '-q', spec], { cwd: ctx.cwd })
  const sha = result.stdout.toString().trim()
  if (result.code !== 0 || !sha) {
    throw new MlvcError('NOT_FOUND', `${spec}: no such revision and path`, {
      hint: 'give REV:PATH with PATH from the top of the repository (or ./PATH), or a file',
    })
  }
  const size = (await objectInfo(ctx.workTree, [sha])).get(sha)?.size ?? 0
  if (size > MAX_STUB_BYTES) {
    throw new MlvcError('NOT_FOUND', `${spec} is not stored by mlvc (git holds its bytes)`)
  }
  return (await readObjects(ctx.workTree, [sha])).get(sha) ?? Buffer.alloc(0)
}

async function stubAt(ctx: GitContext, spec: string, path: string): Promise<FileVersion> {
  const stub = parseStub(await blobAt(ctx, spec), path)
  if (!stub) throw new MlvcError('NOT_FOUND', `${spec} is not a file stored by mlvc`)
  return { path, stub }
}

/** `REV:PATH` from git: the stub (no data needed), or an index and its shards' stubs. */
async function revisionFiles(ctx: GitContext, spec: string): Promise<FileVersion[]> {
  const colon = spec.indexOf(':')
  const rev = spec.slice(0, colon)
  const given = spec.slice(colon + 1)
  const path = /^\.\.?\//.test(given)
    ? relative(ctx.workTree, resolve(ctx.cwd, given)).split(sep).join('/')
    : given
  if (!isIndex(path)) return [await stubAt(ctx, spec, path)]
  const index = parseShardIndex(spec, (await blobAt(ctx, spec)).toString('utf8'))
  const out: FileVersion[] = []
  for (const shard of index.shards) {
    const shardPath = posix.join(posix.dirname(path), shard)
    out.push(await stubAt(ctx, `${rev}:${shardPath}`, shardPath))
  }
  return out
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

async function openAll(ctx: RepoContext, files: FileVersion[], target: string, io: Io) {
  const needsStore = files.some((f) => f.stub) && ctx.storeDir !== undefined
  const store = needsStore ? await openRepoStore(ctx) : undefined
  const versions: CheckpointVersion[] = []
  try {
    for (const f of files) {
      const source = { id: f.stub?.id, stubLines: f.stub?.extra, file: f.file, path: f.path }
      const version = await openForStats(source, store)
      if (!version) {
        const why = await whyNotCheckpoint(source, f.path)
        throw new MlvcError('BAD_FORMAT', `${f.path}: not a checkpoint mlvc can read: ${why}`, {
          hint: 'mlvc inspect reads safetensors, PyTorch, ONNX, GGUF, .npy and .npz files',
        })
      }
      versions.push(version)
    }
    const version =
      files.length === 1 && !isIndex(target)
        ? (versions[0] as CheckpointVersion)
        : combineVersions(versions, versions[0]?.format ?? 'safetensors')
    const rows = await inspectVersion(version, { signal: io.signal, onProgress: io.onProgress })
    return { format: version.format, rows }
  } finally {
    for (const v of versions) await v.close()
    await store?.close()
  }
}

/** `mlvc inspect FILE|REV:PATH`: a checkpoint's tensors with their statistics. */
export async function inspect(target: string, io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const abs = resolve(io.cwd, target)
  const isFile = statSync(abs, { throwIfNoEntry: false })?.isFile() === true
  if (!isFile && !target.includes(':')) {
    throw new MlvcError('NOT_FOUND', `${target}: no such file`, {
      hint: 'give a file, or REV:PATH for a file stored by mlvc in a commit',
    })
  }
  const files = isFile ? await localFiles(ctx, abs) : await revisionFiles(requireGit(ctx), target)
  const { format, rows } = await openAll(ctx, files, target, io)
  const parameters = rows.reduce((sum, r) => sum + r.elements, 0)
  const bytes = rows.reduce((sum, r) => sum + (r.bytes ?? 0), 0)
  const shards = files.length > 1 || isIndex(target) ? files.map((f) => f.path) : undefined
  const head = `${quote(target)}: ${format}${shards ? ` (${shards.length} shards)` : ''}, ${rows.length} tensors, ${group(parameters)} parameters, ${formatBytes(bytes)}`
  const lines = [head, ...renderTensorTable(rows, terminalColors())]
  if (rows.some((r) => r.rounded)) lines.push('  (statistics as the stub records them: 4 digits)')
  return {
    data: { target, format, ...(shards ? { shards } : {}), parameters, bytes, tensors: rows },
    text: lines.join('\n'),
  }
}
