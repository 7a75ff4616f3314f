import { MlvcError } from '../core/index.ts'
import { parseId } from '../store/index.ts'
import { objectInfo, readObjects } from './cat-file.ts'
import { git } from './exec.ts'
import { MAX_STUB_BYTES, readStub, type Stub, type StubProblem } from './stub.ts'

/** A blob at a path: what `ls-tree`, `ls-files` and `rev-list --objects` give. */
export interface PathBlob {
  path: string
  sha: string
}

export interface FoundStub extends PathBlob {
  stub: Stub
}

/** A blob that starts like a stub but cannot be used (malformed, or from a newer mlvc). */
export interface BadStub extends PathBlob {
  problem: StubProblem
  /** The file id on its `id:` line when that line is readable (gc keeps it alive). */
  id: string | undefined
}

export interface ScanResult {
  stubs: FoundStub[]
  /** Blobs at paths mlvc tracks that are not stubs: committed without the filter. */
  raw: PathBlob[]
  /** Every unusable stub: one bad stub never hides the others, nor stops the scan. */
  bad: BadStub[]
}

/** The id on a stub's `id:` line, if it is a valid file id. */
function idLine(data: Buffer): string | undefined {
  const id = /^id: (\S+)$/m.exec(data.toString('latin1'))?.[1]
  try {
    return id !== undefined && parseId(id).kind === 'manifest' ? id : undefined
  } catch {
    return undefined
  }
}

/** Paths that .gitattributes (of the work tree and index) mark `filter=mlvc`. */
export async function trackedPaths(cwd: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set()
  const out = await git(['check-attr', '-z', '--stdin', 'filter'], {
    cwd,
    input: `${paths.join('\0')}\0`,
  })
  const fields = out.split('\0')
  const tracked = new Set<string>()
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const path = fields[i]
    if (path !== undefined && fields[i + 2] === 'mlvc') tracked.add(path)
  }
  return tracked
}

/**
 * Finds the stubs among blobs (and the unusable ones), reading only candidates: blobs at tracked paths and tiny blobs
 * anywhere (a stub that was moved to an untracked path still counts).
 */
export async function findStubs(cwd: string, blobs: readonly PathBlob[]): Promise<ScanResult> {
  const tracked = await trackedPaths(cwd, [...new Set(blobs.map((b) => b.path))])
  const info = await objectInfo(cwd, [...new Set(blobs.map((b) => b.sha))])
  const candidates: PathBlob[] = []
  const raw: PathBlob[] = []
  for (const blob of blobs) {
    const size = info.get(blob.sha)?.size ?? Number.POSITIVE_INFINITY
    if (tracked.has(blob.path) && size > MAX_STUB_BYTES) raw.push(blob)
    else if (tracked.has(blob.path) || size <= 4096) candidates.push(blob)
  }
  const contents = await readObjects(cwd, [...new Set(candidates.map((b) => b.sha))])
  const stubs: FoundStub[] = []
  const bad: BadStub[] = []
  for (const blob of candidates) {
    const data = contents.get(blob.sha) ?? Buffer.alloc(0)
    const reading = readStub(data, blob.path)
    if (reading && 'stub' in reading) stubs.push({ ...blob, stub: reading.stub })
    else if (reading) bad.push({ ...blob, problem: reading.problem, id: idLine(data) })
    else if (tracked.has(blob.path) && data.length > 0) raw.push(blob)
  }
  return { stubs, raw, bad }
}

function parseLsTree(out: string): PathBlob[] {
  const blobs: PathBlob[] = []
  for (const entry of out.split('\0')) {
    const tab = entry.indexOf('\t')
    if (tab < 0) continue
    const [, type, sha] = entry.slice(0, tab).split(' ')
    if (type === 'blob' && sha) blobs.push({ sha, path: entry.slice(tab + 1) })
  }
  return blobs
}

/** Blobs in a commit's tree. */
export async function treeBlobs(cwd: string, rev: string): Promise<PathBlob[]> {
  return parseLsTree(await git(['ls-tree', '-r', '-z', '--full-tree', rev], { cwd }))
}

/** Blobs in the index (stage 0, or every stage during a conflict). */
export async function indexBlobs(cwd: string): Promise<PathBlob[]> {
  const out = await git(['ls-files', '-s', '-z'], { cwd })
  const blobs: PathBlob[] = []
  for (const entry of out.split('\0')) {
    const tab = entry.indexOf('\t')
    if (tab < 0) continue
    const [, sha] = entry.slice(0, tab).split(' ')
    if (sha) blobs.push({ sha, path: entry.slice(tab + 1) })
  }
  return blobs
}

/** The commits whose history `historyBlobs` walks. */
export interface RevSelection {
  /**
   * Revisions to start from, or `^REV` to exclude: any number of them (a push of 100,000 tags),
   * since they reach git on its stdin, never on a command line the OS limits (E2BIG).
   */
  revs?: readonly string[]
  /** rev-list options and pseudo-revisions (--all, --not --remotes=origin); `--not` does not apply to `revs`. */
  options?: readonly string[]
}

/** Blobs that the selected commits introduce, with the path each was first seen at. */
export async function historyBlobs(cwd: string, selection: RevSelection): Promise<PathBlob[]> {
  const revs = selection.revs ?? []
  const options = selection.options ?? []
  if (revs.length === 0 && options.length === 0) return []
  for (const rev of revs) {
    // git reads stdin line by line: an empty line ends the list, a "-" line is an option.
    if (rev === '' || rev.startsWith('-') || /[\n\r]/.test(rev))
      throw new MlvcError('USAGE', `${JSON.stringify(rev)}: not a revision`)
  }
  const out = await git(['rev-list', '--objects', ...options, '--stdin'], {
    cwd,
    input: revs.map((r) => `${r}\n`).join(''),
  })
  const entries: PathBlob[] = []
  for (const line of out.split('\n')) {
    const space = line.indexOf(' ')
    if (space > 0) entries.push({ sha: line.slice(0, space), path: line.slice(space + 1) })
  }
  const info = await objectInfo(
    cwd,
    entries.map((e) => e.sha),
  )
  return entries.filter((e) => info.get(e.sha)?.type === 'blob')
}

export function describeRaw(raw: readonly PathBlob[]): MlvcError {
  const names = raw.slice(0, 3).map((r) => r.path)
  return new MlvcError(
    'NOT_INSTALLED',
    `${names.join(', ')}${raw.length > 3 ? ` and ${raw.length - 3} more` : ''}: tracked by mlvc but committed raw (mlvc was not installed when they were added)`,
    { hint: 'run mlvc install, then git add --renormalize . and commit' },
  )
}

/** One error listing unusable stubs (the pre-push check refuses to publish them). */
export function describeBad(bad: readonly BadStub[]): MlvcError {
  const [first, ...rest] = bad
  const others = rest.slice(0, 3).map((b) => b.path)
  if (rest.length > 3) others.push('…')
  const more = rest.length > 0 ? ` (and ${rest.length} more: ${others.join(', ')})` : ''
  return new MlvcError('BAD_STUB', `${first?.problem.message ?? 'no unusable stub'}${more}`, {
    hint: 'fix the commit that added it (check out a good version of the file, commit again) or skip the check with git push --no-verify',
  })
}
