import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno, MlvcError } from '../core/index.ts'
import {
  git,
  looksLikeStub,
  MAX_STUB_BYTES,
  parseStub,
  readObjects,
  trackedPaths,
} from '../git/index.ts'

/** One file of a tree: its path and, in a commit, its blob. */
export interface TreeFile {
  path: string
  /** The blob id (commits only). */
  sha?: string
  size?: number
}

/**
 * The files `validate`, the registry and the hub read: a commit of any branch (plumbing only, no
 * checkout) or a work tree (what `git add` would take). Paths are relative, with `/`.
 */
export interface TreeSource {
  /** What it is, for messages: `main`, `the work tree`. */
  label: string
  files(): Promise<TreeFile[]>
  /** The bytes at `path`, or undefined when there is no such file. */
  read(path: string): Promise<Buffer | undefined>
  /** Whether mlvc stores the file (a stub in a commit; a tracked path in a work tree). */
  tracked(paths: readonly string[]): Promise<Set<string>>
  /** The content id of a file stored by mlvc (from its stub), else undefined. */
  contentId(path: string): Promise<string | undefined>
  /** Whether a tag exists in the repository. */
  hasTag(tag: string): Promise<boolean>
}

/** Lists `git ls-tree -r -l` of REV (under `prefix`, if given). */
async function lsTree(gitDir: string, rev: string, prefix?: string): Promise<TreeFile[]> {
  const out = await git(
    ['ls-tree', '-r', '-l', '-z', '--full-tree', rev, ...(prefix ? ['--', prefix] : [])],
    {
      cwd: gitDir,
    },
  )
  const files: TreeFile[] = []
  for (const line of out.split('\0')) {
    if (!line) continue
    const tab = line.indexOf('\t')
    const [, type, sha, size] = line.slice(0, tab).split(/\s+/)
    if (type !== 'blob' || !sha) continue
    files.push({ path: line.slice(tab + 1), sha, size: Number(size) })
  }
  return files
}

async function tagExists(cwd: string, tag: string): Promise<boolean> {
  const out = await git(['rev-parse', '--verify', '--quiet', `refs/tags/${tag}`], {
    cwd,
    okCodes: [0, 1],
  })
  return out.trim() !== ''
}

/** The commit `rev` names in `gitDir` (NOT_FOUND when none). */
export async function resolveCommit(gitDir: string, rev: string): Promise<string> {
  const out = await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
    cwd: gitDir,
    okCodes: [0, 1],
  })
  if (!out.trim()) {
    throw new MlvcError('NOT_FOUND', `no branch or commit ${JSON.stringify(rev)}`, {
      hint: 'git branch -a lists the branches',
    })
  }
  return out.trim()
}

/** The tree of a commit, read with plumbing (works in bare repositories and pre-receive hooks). */
export function commitTree(gitDir: string, commit: string, label = commit): TreeSource {
  let listing: Promise<TreeFile[]> | undefined
  const files = () => {
    listing ??= lsTree(gitDir, commit)
    return listing
  }
  const blobOf = async (path: string) => (await files()).find((f) => f.path === path)
  const read = async (path: string) => {
    const file = await blobOf(path)
    if (!file?.sha) return undefined
    return (await readObjects(gitDir, [file.sha])).get(file.sha)
  }
  return {
    label,
    files,
    read,
    async tracked(paths) {
      const wanted = new Set(paths)
      const small = (await files()).filter(
        (f) => wanted.has(f.path) && (f.size ?? 0) <= MAX_STUB_BYTES && f.sha,
      )
      const blobs = await readObjects(gitDir, [...new Set(small.map((f) => f.sha as string))])
      return new Set(
        small
          .filter((f) => looksLikeStub(blobs.get(f.sha as string) ?? Buffer.alloc(0)))
          .map((f) => f.path),
      )
    },
    async contentId(path) {
      const data = await read(path)
      if (!data || !looksLikeStub(data)) return undefined
      return parseStub(data, path)?.id
    },
    hasTag: (tag) => tagExists(gitDir, tag),
  }
}

/** The work tree: tracked and untracked files that are not ignored, read from the disk. */
export function workTreeSource(workTree: string): TreeSource {
  let listing: Promise<TreeFile[]> | undefined
  const files = () => {
    listing ??= git(
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'],
      {
        cwd: workTree,
      },
    ).then((out) => [...new Set(out.split('\0').filter(Boolean))].map((path) => ({ path })))
    return listing
  }
  const read = async (path: string) => {
    try {
      return await readFile(join(workTree, path))
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) return undefined
      throw err
    }
  }
  return {
    label: 'the work tree',
    files,
    read,
    tracked: (paths) => trackedPaths(workTree, paths),
    async contentId(path) {
      // The index holds the stub git stores for a tracked file.
      const out = await git(['ls-files', '-s', '-z', '--', path], { cwd: workTree })
      const sha = out.split(/\s+/)[1]
      if (!sha) return undefined
      const data = (await readObjects(workTree, [sha])).get(sha)
      return data && looksLikeStub(data) ? parseStub(data, path)?.id : undefined
    },
    hasTag: (tag) => tagExists(workTree, tag),
  }
}
