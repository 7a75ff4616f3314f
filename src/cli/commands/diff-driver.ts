import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { isMlvcError } from '../../core/index.ts'
import {
  looksLikeStub,
  MAX_STUB_BYTES,
  objectInfo,
  openStatCache,
  parseStub,
  readObjects,
  type StatCache,
} from '../../git/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { quote } from '../text.ts'
import { renderReport, terminalColors } from './diff-render.ts'
import { reportUnit } from './diff-report.ts'
import { type FileVersion, workTreeVersion } from './diff-sides.ts'

/** One side as git passes it to an external diff: a file, the blob's hex, its mode. */
interface GitSide {
  path: string
  file: string
  hex: string
}

async function holdsStub(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(16)
    const { bytesRead } = await handle.read(head, 0, 16, 0)
    return looksLikeStub(head.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}

/** The stub git stores for a blob, read by its id; undefined for a blob committed raw. */
async function blobStub(ctx: GitContext, hex: string, path: string) {
  const size = (await objectInfo(ctx.workTree, [hex])).get(hex)?.size
  if (size === undefined || size > MAX_STUB_BYTES) return undefined
  const data = (await readObjects(ctx.workTree, [hex])).get(hex)
  return data ? parseStub(data, path) : undefined
}

/**
 * A side as a version. Git hands over the work-tree file itself (its hex is all zeros) or a
 * temporary file that it smudged — the real content when mlvc wrote it inline, else the stub — so
 * the stub is always read from git by the blob's id, and the file is used only for real bytes.
 */
async function sideVersion(
  ctx: GitContext,
  side: GitSide,
  statCache: StatCache,
): Promise<FileVersion | undefined> {
  if (side.file === '/dev/null' || side.hex === '.') return undefined
  if (/^0+$/.test(side.hex)) {
    const options = { workTree: ctx.workTree, statCache, noData: false }
    return workTreeVersion(side.path, undefined, options)
  }
  const file = resolve(ctx.workTree, side.file)
  const stub = await blobStub(ctx, side.hex, side.path)
  return { path: side.path, stub, file: (await holdsStub(file)) ? undefined : file }
}

/**
 * Git's external diff driver (diff.mlvc.command): called once per changed path with `path
 * old-file old-hex old-mode new-file new-hex new-mode [new-path xfrm-msg]`, or with the path
 * alone when it is unmerged. Prints the same report as `mlvc diff`. A failure is reported in the
 * output and the exit code stays 0, because git stops the whole diff when a driver fails.
 */
export async function diffDriver(args: readonly string[], io: Io): Promise<CommandResult> {
  const [path = '', oldFile = '', oldHex = '', , newFile = '', newHex = '', , newPath] = args
  const to = newPath ?? path
  const header = `mlvc diff ${quote(`a/${path}`)} ${quote(`b/${to}`)}`
  const c = terminalColors(true)
  if (args.length < 7) return { data: { path, unmerged: true }, text: `${header}\n  unmerged` }
  try {
    const ctx = requireGit(await repoContext(io.cwd))
    const statCache = await openStatCache(ctx.git.gitDir)
    const old = await sideVersion(ctx, { path, file: oldFile, hex: oldHex }, statCache)
    const next = await sideVersion(ctx, { path: to, file: newFile, hex: newHex }, statCache)
    const unit = { path: to, sharded: false, old: old ? [old] : [], new: next ? [next] : [] }
    const report = await withRepoStore(ctx, (store) =>
      reportUnit(unit, { store, data: true, signal: io.signal }),
    )
    return { data: report, text: [c.bold(header), ...renderReport(report, c)].join('\n') }
  } catch (err) {
    if (isMlvcError(err, 'INTERRUPTED')) throw err
    const message = (err as Error).message
    io.warn(`mlvc: ${quote(path)}: ${message}`)
    return { data: { path, error: message }, text: `${header}\n  could not compare: ${message}` }
  }
}
