import { resolve } from 'node:path'
import { runGit } from './exec.ts'

export interface GitRepo {
  /** The work tree's root (absent in a bare repository). */
  workTree: string | undefined
  /** This work tree's git dir (differs from commonDir in a linked worktree). */
  gitDir: string
  /** The git dir shared by all worktrees: where the mlvc store lives. */
  commonDir: string
}

/** The Git repository containing `cwd`, or undefined outside any. */
export async function findGitRepo(cwd: string): Promise<GitRepo | undefined> {
  const result = await runGit(
    [
      'rev-parse',
      '--path-format=absolute',
      '--git-dir',
      '--git-common-dir',
      '--is-bare-repository',
      '--show-toplevel',
    ],
    { cwd },
  )
  if (result.code !== 0) return undefined
  const [gitDir, commonDir, bare, top] = result.stdout.toString().trimEnd().split('\n')
  if (!gitDir || !commonDir) return undefined
  return {
    gitDir: resolve(cwd, gitDir),
    commonDir: resolve(cwd, commonDir),
    workTree: bare === 'true' || !top ? undefined : top,
  }
}
