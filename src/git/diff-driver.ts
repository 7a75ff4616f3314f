import { resolve } from 'node:path'
import { objectInfo, readObjects } from './cat-file.ts'
import type { DriverSide } from './diff-args.ts'
import { type FileReport, reportUnit } from './diff-report.ts'
import { type FileVersion, startsLikeStub, workTreeVersion } from './diff-sides.ts'
import type { RepoSession } from './session.ts'
import { openStatCache, type StatCache } from './stat-cache.ts'
import { MAX_STUB_BYTES, parseStub, type Stub } from './stub.ts'

/** The stub git stores for a blob, read by its id; undefined for a blob committed raw. */
async function blobStub(workTree: string, hex: string, path: string): Promise<Stub | undefined> {
  const size = (await objectInfo(workTree, [hex])).get(hex)?.size
  if (size === undefined || size > MAX_STUB_BYTES) return undefined
  const data = (await readObjects(workTree, [hex])).get(hex)
  return data ? parseStub(data, path) : undefined
}

/**
 * A side as a version. Git hands over the work-tree file itself (its hex is all zeros) or a
 * temporary file that it smudged — the real content when mlvc wrote it inline, else the stub — so
 * the stub is always read from git by the blob's id, and the file is used only for real bytes.
 */
async function sideVersion(
  workTree: string,
  side: DriverSide,
  statCache: StatCache,
): Promise<FileVersion | undefined> {
  if (side.file === '/dev/null' || side.hex === '.') return undefined
  if (/^0+$/.test(side.hex)) {
    const options = { workTree, statCache, noData: false }
    return workTreeVersion(side.path, undefined, options)
  }
  const file = resolve(workTree, side.file)
  const stub = await blobStub(workTree, side.hex, side.path)
  return { path: side.path, stub, file: (await startsLikeStub(file)) ? undefined : file }
}

/** The report `mlvc diff` gives for one path, for git's external diff driver. */
export async function diffDriverReport(
  session: RepoSession,
  sides: { old: DriverSide; new: DriverSide },
): Promise<FileReport> {
  const { workTree } = session
  const statCache = await openStatCache(session.gitDir)
  const old = await sideVersion(workTree, sides.old, statCache)
  const next = await sideVersion(workTree, sides.new, statCache)
  const unit = {
    path: sides.new.path,
    sharded: false,
    old: old ? [old] : [],
    new: next ? [next] : [],
  }
  return reportUnit(unit, { store: await session.store(), data: true, signal: session.signal })
}
