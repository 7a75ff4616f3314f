import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { git, runGit } from '../git/index.ts'
import { deploymentDir, modelDir } from './layout.ts'
import { showModel } from './registry.ts'
import { commitTree, resolveCommit } from './tree.ts'

export interface PromoteInput {
  /** A work tree or a bare repository. */
  cwd: string
  name: string
  from: string
  to: string
  /** The committer (the hub's caller); default: git's configured identity. */
  author?: { name: string; email: string }
}

export interface PromoteResult {
  /** The new commit on `to`, or undefined when `to` already had the same entry. */
  commit: string | undefined
  from: string
  to: string
  name: string
}

/** Index entries (`mode sha\tpath`) of a folder in a commit. */
async function entriesOf(cwd: string, commit: string, dir: string): Promise<string[]> {
  const out = await git(['ls-tree', '-r', '-z', '--full-tree', commit, '--', dir], { cwd })
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t')
      const [mode, , sha] = line.slice(0, tab).split(' ')
      return `${mode} ${sha}\t${line.slice(tab + 1)}`
    })
}

async function blobText(cwd: string, rev: string, path: string): Promise<string> {
  const result = await runGit(['cat-file', 'blob', `${rev}:${path}`], { cwd })
  return result.code === 0 ? result.stdout.toString('utf8') : ''
}

/** The target's .gitattributes plus the source's lines about the model (so it stays tracked). */
async function mergedAttributes(
  cwd: string,
  source: string,
  target: string,
  name: string,
): Promise<string | undefined> {
  const theirs = await blobText(cwd, source, '.gitattributes')
  const ours = await blobText(cwd, target, '.gitattributes')
  const have = new Set(ours.split('\n'))
  const added = theirs
    .split('\n')
    .filter((line) => line.includes(`${modelDir(name)}/`) && !have.has(line))
  if (added.length === 0) return undefined
  return `${ours}${ours === '' || ours.endsWith('\n') ? '' : '\n'}${added.join('\n')}\n`
}

async function checkedOutBranch(cwd: string): Promise<string | undefined> {
  const bare = (await git(['rev-parse', '--is-bare-repository'], { cwd })).trim() === 'true'
  if (bare) return undefined
  const out = await git(['symbolic-ref', '-q', 'HEAD'], { cwd, okCodes: [0, 1] })
  return out.trim() || undefined
}

/**
 * A commit on branch `to` whose tree is its head's with the folders `dirs` replaced by their
 * content in commit `source` (a folder absent there is removed), made by plumbing: a temporary
 * index, write-tree, commit-tree, update-ref with the expected old value. No branch is checked
 * out, and a concurrent change of the target makes it fail (LOCKED) instead of losing that change.
 * Undefined when the tree would not change. `attributes`: the target's new .gitattributes, if any.
 */
async function commitFolders(input: {
  cwd: string
  source: string
  to: string
  dirs: readonly string[]
  message: string
  what: string
  /** How a missing target branch is named: `to promote to`. */
  toWhat: string
  author?: { name: string; email: string } | undefined
  attributes?: (target: string) => Promise<string | undefined>
  /** A check run on the target commit before anything is written. */
  check?: (target: string) => Promise<void>
}): Promise<{ commit: string | undefined; target: string }> {
  const { cwd, source, to, dirs } = input
  const ref = `refs/heads/${to}`
  const target = await resolveCommit(cwd, ref).catch(() => {
    throw new MlvcError('NOT_FOUND', `no branch ${to} ${input.toWhat}`, {
      hint: `create it first: git branch ${to}`,
    })
  })
  await input.check?.(target)
  let gitDir = (await git(['rev-parse', '--git-dir'], { cwd })).trim()
  if (!isAbsolute(gitDir)) gitDir = join(cwd, gitDir)
  const index = join(gitDir, `mlvc-commit-${randomUUID()}.index`)
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_INDEX_FILE: index }
  if (input.author) {
    env.GIT_AUTHOR_NAME = env.GIT_COMMITTER_NAME = input.author.name
    env.GIT_AUTHOR_EMAIL = env.GIT_COMMITTER_EMAIL = input.author.email
  }
  try {
    await git(['read-tree', target], { cwd, env })
    const entries: string[] = []
    for (const dir of dirs) {
      await git(['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', dir], { cwd, env })
      for (const entry of await entriesOf(cwd, source, dir)) entries.push(entry)
    }
    const attributes = await input.attributes?.(target)
    if (attributes !== undefined) {
      const sha = (
        await git(['hash-object', '-w', '--stdin'], { cwd, env, input: attributes })
      ).trim()
      entries.push(`100644 ${sha}\t.gitattributes`)
    }
    if (entries.length > 0)
      await git(['update-index', '--index-info'], { cwd, env, input: `${entries.join('\n')}\n` })
    const tree = (await git(['write-tree'], { cwd, env })).trim()
    const before = (await git(['rev-parse', `${target}^{tree}`], { cwd })).trim()
    if (tree === before) return { commit: undefined, target }
    const commit = (
      await git(['commit-tree', tree, '-p', target], { cwd, env, input: input.message })
    ).trim()
    const moved = await runGit(['update-ref', '-m', `mlvc ${input.what}`, ref, commit, target], {
      cwd,
    })
    if (moved.code !== 0) {
      throw new MlvcError('LOCKED', `${to} moved during ${input.what}`, {
        hint: 'run it again: nothing was changed',
      })
    }
    return { commit, target }
  } finally {
    await rm(index, { force: true })
  }
}

/**
 * Copies a registry entry from one branch to another with a commit on the target (commitFolders).
 * When the target is the work tree's branch, the work tree follows.
 */
export async function promoteModel(input: PromoteInput): Promise<PromoteResult> {
  const { cwd, name, from, to } = input
  const source = await resolveCommit(cwd, from)
  await showModel(commitTree(cwd, source, from), name)
  const ref = `refs/heads/${to}`
  const checkedOut = (await checkedOutBranch(cwd)) === ref
  const { commit, target } = await commitFolders({
    cwd,
    source,
    to,
    dirs: [modelDir(name)],
    message: `registry: promote ${name} from ${from}\n`,
    what: `registry promote ${name}`,
    toWhat: 'to promote to',
    author: input.author,
    attributes: (target) => mergedAttributes(cwd, source, target, name),
    check: async () => {
      if (!checkedOut) return
      const dirty = await git(['status', '--porcelain', '--', modelDir(name), '.gitattributes'], {
        cwd,
      })
      if (dirty.trim()) {
        throw new MlvcError(
          'USAGE',
          `${modelDir(name)} has uncommitted changes on ${to}, the checked-out branch`,
          { hint: 'commit or discard them, then promote again' },
        )
      }
    },
  })
  if (commit && checkedOut) await git(['read-tree', '-m', '-u', target, commit], { cwd })
  return { commit, from, to, name }
}

/**
 * Rolls a deployment on `branch` back to how it was in `commit` (one of its versions): a commit on
 * the branch that restores `deployments/NAME/` and the registry models it used there. Pushed (or,
 * on the hub, applied), its inputs equal that version's, so the earlier build serves at once.
 */
export async function rollbackDeployment(input: {
  cwd: string
  branch: string
  name: string
  commit: string
  version: number
  models: readonly string[]
  author?: { name: string; email: string }
}): Promise<{ commit: string | undefined }> {
  const { commit } = await commitFolders({
    cwd: input.cwd,
    source: input.commit,
    to: input.branch,
    dirs: [deploymentDir(input.name), ...input.models.map(modelDir)],
    message: `deployments: roll back ${input.name} to v${input.version} (${input.commit.slice(0, 12)})\n`,
    what: `rollback of ${input.name}`,
    toWhat: 'to roll back',
    author: input.author,
  })
  return { commit }
}
