import { git, runGit } from '../git/index.ts'
import { HubHttpError } from './http.ts'

/**
 * Read-only Git queries on a hub repository's bare repository, for the browsing API. Revisions and
 * paths come from URLs: a revision must name a branch, a tag or a commit id, never an option, and
 * every path is passed after `--`.
 */
export interface CommitInfo {
  sha: string
  parents: string[]
  author: string
  email: string
  /** ISO 8601. */
  date: string
  subject: string
}

export interface TreeEntry {
  name: string
  path: string
  type: 'tree' | 'blob' | 'commit'
  mode: string
  sha: string
  /** Bytes of a blob as Git stores it (a stub's size for a tracked file). */
  size: number | null
}

const FIELD = '\x1f'
const RECORD = '\x1e'
const LOG_FORMAT = ['%H', '%P', '%an', '%ae', '%aI', '%s'].join(FIELD) + RECORD

/** A revision from a URL: a ref name or commit id; anything that could be read as an option is refused. */
export function checkRev(rev: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/@{}~^-]{0,250}$/.test(rev) || rev.includes('..')) {
    throw new HubHttpError(400, 'USAGE', `invalid revision ${JSON.stringify(rev.slice(0, 80))}`, {
      hint: 'name a branch, a tag or a commit id',
    })
  }
  return rev
}

/** A path inside the repository from a URL: relative, no `..` segments, no NUL. */
export function checkPath(path: string): string {
  const clean = path.replace(/^\/+|\/+$/g, '')
  if (clean.includes('\0') || clean.split('/').some((p) => p === '..' || p === '.')) {
    throw new HubHttpError(400, 'USAGE', `invalid path ${JSON.stringify(path.slice(0, 200))}`)
  }
  return clean
}

function parseCommits(text: string): CommitInfo[] {
  return text
    .split(RECORD)
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r !== '')
    .map((record) => {
      const [sha = '', parents = '', author = '', email = '', date = '', subject = ''] =
        record.split(FIELD)
      return { sha, parents: parents ? parents.split(' ') : [], author, email, date, subject }
    })
}

/** The commit a revision names; NOT_FOUND when it names none. */
export async function resolveCommit(gitDir: string, rev: string): Promise<string> {
  const result = await runGit(['rev-parse', '--verify', '--quiet', `${checkRev(rev)}^{commit}`], {
    cwd: gitDir,
  })
  const sha = result.stdout.toString().trim()
  if (result.code !== 0 || !/^[0-9a-f]{40,64}$/.test(sha))
    throw new HubHttpError(404, 'NOT_FOUND', `no revision ${rev} in this repository`)
  return sha
}

export interface Branch {
  name: string
  commit: CommitInfo
}

/** Every branch with its latest commit, most recently changed first. */
export async function listBranches(gitDir: string): Promise<Branch[]> {
  const format = ['%(refname:short)', '%(objectname)', '%(*objectname)'].join(FIELD)
  const out = await git(
    ['for-each-ref', '--sort=-committerdate', `--format=${format}`, 'refs/heads/'],
    { cwd: gitDir },
  )
  const rows = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(FIELD))
  const commits = await Promise.all(
    rows.map(([, sha = '']) => commitLog(gitDir, sha, { limit: 1 })),
  )
  return rows.flatMap(([name = ''], i) => {
    const commit = commits[i]?.[0]
    return commit ? [{ name, commit }] : []
  })
}

/** The default branch: what HEAD names, if that branch exists. */
export async function defaultBranch(gitDir: string): Promise<string | undefined> {
  const result = await runGit(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: gitDir })
  return result.code === 0 ? result.stdout.toString().trim() : undefined
}

/** Commits reachable from `rev` (touching `path` if given), newest first. */
export async function commitLog(
  gitDir: string,
  rev: string,
  options: { path?: string | undefined; limit?: number; skip?: number } = {},
): Promise<CommitInfo[]> {
  const args = [
    'log',
    `--format=${LOG_FORMAT}`,
    `--max-count=${options.limit ?? 50}`,
    `--skip=${options.skip ?? 0}`,
    checkRev(rev),
    '--',
  ]
  if (options.path) args.push(checkPath(options.path))
  return parseCommits(await git(args, { cwd: gitDir }))
}

/** Commits in `head` and not in `base`, newest first. */
export async function commitsBetween(
  gitDir: string,
  base: string,
  head: string,
): Promise<CommitInfo[]> {
  const out = await git(
    [
      'log',
      `--format=${LOG_FORMAT}`,
      '--max-count=200',
      checkRev(head),
      `^${checkRev(base)}`,
      '--',
    ],
    { cwd: gitDir },
  )
  return parseCommits(out)
}

/** The entries of a folder at a commit (sorted: folders first). NOT_FOUND for no such folder. */
export async function listTree(gitDir: string, commit: string, path: string): Promise<TreeEntry[]> {
  const dir = checkPath(path)
  const result = await runGit(['ls-tree', '-l', '-z', dir ? `${commit}:${dir}` : commit], {
    cwd: gitDir,
  })
  if (result.code !== 0) throw new HubHttpError(404, 'NOT_FOUND', `no folder ${dir} at ${commit}`)
  const entries: TreeEntry[] = []
  for (const line of result.stdout.toString('utf8').split('\0')) {
    const match = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(line)
    if (!match) continue
    const [, mode = '', type = '', sha = '', size = '-', name = ''] = match
    entries.push({
      name,
      path: dir ? `${dir}/${name}` : name,
      type: type === 'tree' ? 'tree' : type === 'commit' ? 'commit' : 'blob',
      mode,
      sha,
      size: size === '-' ? null : Number(size),
    })
  }
  return entries.sort((a, b) =>
    a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'tree' ? -1 : 1,
  )
}

/** The blob at `path` in `commit`: its id and size; NOT_FOUND when there is none. */
export async function blobAt(
  gitDir: string,
  commit: string,
  path: string,
): Promise<{ sha: string; size: number }> {
  const file = checkPath(path)
  const result = await runGit(['ls-tree', '-l', '-z', commit, '--', file], { cwd: gitDir })
  const match = /^\d+ blob ([0-9a-f]+) +(\d+)\t/.exec(result.stdout.toString('utf8'))
  if (result.code !== 0 || !match)
    throw new HubHttpError(404, 'NOT_FOUND', `no file ${file} at ${commit.slice(0, 12)}`)
  return { sha: match[1] as string, size: Number(match[2]) }
}

/** Every blob under `prefix` at a commit (recursive), with sizes. */
export async function listFiles(gitDir: string, commit: string, prefix = ''): Promise<TreeEntry[]> {
  const args = ['ls-tree', '-r', '-l', '-z', commit]
  if (prefix) args.push('--', checkPath(prefix))
  const out = (await runGit(args, { cwd: gitDir })).stdout.toString('utf8')
  return out.split('\0').flatMap((line) => {
    const match = /^(\d+) blob ([0-9a-f]+) +(\d+)\t(.*)$/s.exec(line)
    if (!match) return []
    const [, mode = '', sha = '', size = '0', path = ''] = match
    const name = path.split('/').at(-1) ?? path
    return [{ name, path, type: 'blob' as const, mode, sha, size: Number(size) }]
  })
}

export interface ChangedFile {
  path: string
  /** A (added), M (modified), D (deleted), R (renamed: `from` is the old path). */
  status: 'A' | 'M' | 'D' | 'R' | 'T'
  from?: string
  oldSha: string
  newSha: string
}

/** The files that differ between two commits. */
export async function changedFiles(
  gitDir: string,
  base: string,
  head: string,
): Promise<ChangedFile[]> {
  const out = await git(['diff-tree', '-r', '-z', '-M', '--no-commit-id', base, head], {
    cwd: gitDir,
  })
  const parts = out.split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i < parts.length; i++) {
    const meta = /^:\d+ \d+ ([0-9a-f]+) ([0-9a-f]+) ([AMDRT])\d*$/.exec(parts[i] ?? '')
    if (!meta) continue
    const status = meta[3] as ChangedFile['status']
    const first = parts[++i] ?? ''
    const second = status === 'R' ? (parts[++i] ?? '') : undefined
    files.push({
      path: second ?? first,
      status,
      ...(second !== undefined ? { from: first } : {}),
      oldSha: meta[1] as string,
      newSha: meta[2] as string,
    })
  }
  return files
}

/** The unified diff of one file between two commits (at most `limit` bytes of it). */
export async function textDiff(
  gitDir: string,
  range: { base: string; head: string },
  file: ChangedFile,
  limit = 256 * 1024,
): Promise<{ patch: string; truncated: boolean }> {
  const paths = file.from ? [file.from, file.path] : [file.path]
  const result = await runGit(
    ['diff', '--no-color', '--no-ext-diff', '-U3', '-M', range.base, range.head, '--', ...paths],
    { cwd: gitDir },
  )
  const text = result.stdout.toString('utf8')
  // The page names the file itself: the header lines (diff --git, index, ---, +++) are left out.
  const at = text.indexOf('\n@@')
  const body = at < 0 ? '' : text.slice(at + 1)
  return body.length > limit
    ? { patch: body.slice(0, limit), truncated: true }
    : { patch: body, truncated: false }
}
