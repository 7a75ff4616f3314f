import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { git, runGit } from '../git/index.ts'
import { modelDir } from './layout.ts'
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
 * Copies a registry entry from one branch to another with a commit on the target made by plumbing
 * (a temporary index, write-tree, commit-tree, update-ref with the expected old value): no branch
 * is checked out, and a concurrent change of the target makes the promotion fail instead of
 * losing that change. When the target is the work tree's branch, the work tree follows.
 */
export async function promoteModel(input: PromoteInput): Promise<PromoteResult> {
  const { cwd, name, from, to } = input
  const source = await resolveCommit(cwd, from)
  await showModel(commitTree(cwd, source, from), name)
  const ref = `refs/heads/${to}`
  const target = await resolveCommit(cwd, ref).catch(() => {
    throw new MlvcError('NOT_FOUND', `no branch ${to} to promote to`, {
      hint: 'create it first: git branch TO',
    })
  })
  const checkedOut = (await checkedOutBranch(cwd)) === ref
  if (checkedOut) {
    const dirty = await git(['status', '--porcelain', '--', modelDir(name), '.gitattributes'], {
      cwd,
    })
    if (dirty.trim()) {
      throw new MlvcError(
        'USAGE',
        `${modelDir(name)} has uncommitted changes on ${to}, the checked-out branch`,
        {
          hint: 'commit or discard them, then promote again',
        },
      )
    }
  }
  let gitDir = (await git(['rev-parse', '--git-dir'], { cwd })).trim()
  if (!isAbsolute(gitDir)) gitDir = join(cwd, gitDir)
  const index = join(gitDir, `mlvc-promote-${randomUUID()}.index`)
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_INDEX_FILE: index }
  if (input.author) {
    env.GIT_AUTHOR_NAME = env.GIT_COMMITTER_NAME = input.author.name
    env.GIT_AUTHOR_EMAIL = env.GIT_COMMITTER_EMAIL = input.author.email
  }
  try {
    await git(['read-tree', target], { cwd, env })
    await git(['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', modelDir(name)], {
      cwd,
      env,
    })
    const entries = await entriesOf(cwd, source, modelDir(name))
    const attributes = await mergedAttributes(cwd, source, target, name)
    if (attributes !== undefined) {
      const sha = (
        await git(['hash-object', '-w', '--stdin'], { cwd, env, input: attributes })
      ).trim()
      entries.push(`100644 ${sha}\t.gitattributes`)
    }
    await git(['update-index', '--index-info'], { cwd, env, input: `${entries.join('\n')}\n` })
    const tree = (await git(['write-tree'], { cwd, env })).trim()
    const before = (await git(['rev-parse', `${target}^{tree}`], { cwd })).trim()
    if (tree === before) return { commit: undefined, from, to, name }
    const message = `registry: promote ${name} from ${from}\n`
    const commit = (
      await git(['commit-tree', tree, '-p', target], { cwd, env, input: message })
    ).trim()
    const moved = await runGit(
      ['update-ref', '-m', `mlvc registry promote ${name}`, ref, commit, target],
      { cwd },
    )
    if (moved.code !== 0) {
      throw new MlvcError('LOCKED', `${to} moved while ${name} was being promoted`, {
        hint: 'promote again: nothing was changed',
      })
    }
    if (checkedOut) await git(['read-tree', '-m', '-u', target, commit], { cwd })
    return { commit, from, to, name }
  } finally {
    await rm(index, { force: true })
  }
}
