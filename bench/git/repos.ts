import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { treeSize } from '../fsutil.ts'
import { type Command, exec } from '../proc.ts'
import type { GitTool, Sandbox } from './sandbox.ts'

/** The pattern every scenario's large files match. */
export const TRACKED = '*.bin'

/**
 * How each tool's subjects are named in the tables: "git add (mlvc)", "git annex add",
 * "git clone (git-lfs), 1000 files of 1 MiB".
 */
export function subjectOf(command: string, tool: GitTool, detail?: string): string {
  const name =
    tool === 'git-annex' ? `git annex ${command.replace(/^git /, '')}` : `${command} (${tool})`
  return detail ? `${name}, ${detail}` : name
}

async function git(sb: Sandbox, dir: string, ...args: string[]): Promise<string> {
  return exec(sb.git(dir, args))
}

/**
 * A fresh repository on branch main whose first commit holds the tool's set-up: for mlvc
 * `mlvc install` and `mlvc track '*.bin'` (.gitattributes), for git-lfs `git lfs track '*.bin'`
 * (which also installs its hooks), for git-annex `git annex init`. `patterns` replaces '*.bin'.
 */
export async function initRepo(
  sb: Sandbox,
  dir: string,
  patterns: readonly string[] = [TRACKED],
): Promise<void> {
  await mkdir(dir, { recursive: true })
  await git(sb, dir, 'init', '-q', '-b', 'main')
  switch (sb.tool) {
    case 'mlvc':
      await exec(sb.mlvc(dir, ['install']))
      await exec(sb.mlvc(dir, ['track', ...patterns]))
      break
    case 'git-lfs':
      await exec(sb.git(dir, ['lfs', 'track', ...patterns]))
      break
    case 'git-annex':
      await git(sb, dir, 'annex', 'init', '--quiet', 'bench')
      break
  }
  await git(sb, dir, 'add', '-A')
  await git(sb, dir, 'commit', '-q', '--allow-empty', '-m', 'set up')
}

/** The timed add: `git annex add` for git-annex (locked mode), `git add` otherwise. */
export function addCommand(sb: Sandbox, dir: string, names: string[]): Command {
  const args = sb.tool === 'git-annex' ? ['annex', 'add', '--quiet', ...names] : ['add', ...names]
  return sb.git(dir, args)
}

export async function commitAll(sb: Sandbox, dir: string, message: string): Promise<void> {
  await git(sb, dir, 'commit', '-q', '-m', message)
}

export async function addAndCommit(sb: Sandbox, dir: string, names: string[]): Promise<void> {
  await exec(addCommand(sb, dir, names))
  await commitAll(sb, dir, `add ${names.length} files`)
}

/** Where a clone comes from and where the large files go. */
export interface Remotes {
  /** A bare repository (the Git remote), cloned through its file:// URL. */
  bare: string
  url: string
  /** mlvc's folder remote; git-lfs keeps its objects inside the bare repository (lfs/objects). */
  store: string | undefined
}

/**
 * Gives a repository an `origin`: a bare repository reached by a file:// URL (git-lfs then uses
 * its standalone file transfer into `<bare>/lfs/objects`), and for mlvc also a folder remote
 * added with `mlvc remote add origin FOLDER` and committed in .mlvc/config.yaml, so clones find
 * it.
 */
export async function addRemotes(sb: Sandbox, dir: string, base: string): Promise<Remotes> {
  const bare = join(base, 'origin.git')
  await mkdir(bare, { recursive: true })
  await git(sb, bare, 'init', '-q', '--bare', '-b', 'main')
  const url = pathToFileURL(bare).href
  await git(sb, dir, 'remote', 'add', 'origin', url)
  if (sb.tool !== 'mlvc') return { bare, url, store: undefined }
  const store = join(base, 'mlvc-remote')
  await exec(sb.mlvc(dir, ['remote', 'add', 'origin', store]))
  await git(sb, dir, 'add', '.mlvc/config.yaml')
  await commitAll(sb, dir, 'mlvc remote')
  return { bare, url, store }
}

/** Everything the remote side holds: the bare repository, and mlvc's folder remote. */
export async function remoteSize(remotes: Remotes): Promise<number> {
  const dirs = [remotes.bare, ...(remotes.store ? [remotes.store] : [])]
  let total = 0
  for (const dir of dirs) if (existsSync(dir)) total += await treeSize(dir)
  return total
}

/** `git push origin main`: the tools' pre-push hooks upload the large files. */
export function pushCommand(sb: Sandbox, dir: string): Command {
  return sb.git(dir, ['push', '-q', 'origin', 'main'])
}

/**
 * Publishes main and the large files it holds: `git push` for mlvc and git-lfs (their pre-push
 * hooks upload); for git-annex, which has no such hook, `git annex sync --content origin` (pushes
 * main and the git-annex branch, which copying to the remote also changes, and the files'
 * content).
 */
export async function publish(sb: Sandbox, dir: string): Promise<void> {
  const command =
    sb.tool === 'git-annex'
      ? sb.git(dir, ['annex', 'sync', '--quiet', '--content', 'origin'])
      : pushCommand(sb, dir)
  await exec(command)
}

/** Size in bytes of a blob in the index, e.g. to check that Git stored a stub, not the file. */
export async function indexedSize(sb: Sandbox, dir: string, name: string): Promise<number> {
  return Number((await git(sb, dir, 'cat-file', '-s', `:${name}`)).trim())
}
