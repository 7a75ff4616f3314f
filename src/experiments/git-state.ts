import { git, runGit } from '../git/index.ts'
import type { GitMeta } from './meta.ts'

export interface GitState {
  meta: GitMeta
  /** `git diff HEAD --binary`: staged and unstaged changes to tracked files ("" when clean). */
  diff: string
}

/**
 * The Git state of `cwd` as dbxlogger records it (branch, commit, `git log --pretty=fuller -1`,
 * uncommitted changes), plus the diff itself. Undefined outside a Git work tree.
 */
export async function readGitState(cwd: string): Promise<GitState | undefined> {
  const top = await runGit(['rev-parse', '--show-toplevel'], { cwd })
  if (top.code !== 0) return undefined
  const branch = await runGit(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd })
  const head = await runGit(['rev-parse', '--verify', '-q', 'HEAD'], { cwd })
  if (head.code !== 0) {
    return {
      meta: {
        branch: branch.code === 0 ? branch.stdout.toString().trim() : null,
        commit: null,
        uncommited_changes: false,
      },
      diff: '',
    }
  }
  const diff = await git(['diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff'], { cwd })
  const meta: GitMeta = {
    branch: branch.code === 0 ? branch.stdout.toString().trim() : null,
    commit: head.stdout.toString().trim(),
    commit_long: await git(['log', '--pretty=fuller', '-1', '--no-color'], { cwd }),
    uncommited_changes: diff.length > 0,
  }
  return { meta, diff }
}
