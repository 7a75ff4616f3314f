import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { type Command, exec } from '../proc.ts'

/** Who manages the large files in a sandbox's repositories. */
export type GitTool = 'mlvc' | 'git-lfs' | 'git-annex'

/**
 * An isolated user for one tool: its own HOME (so `mlvc install` and `git lfs install` write a
 * private ~/.gitconfig, never the real one), no system config, its own TMPDIR inside the run
 * folder (so nothing is left in /tmp), and Git discovery stopped at the run folder.
 */
export interface Sandbox {
  tool: GitTool
  home: string
  env: NodeJS.ProcessEnv
  git(cwd: string, args: string[]): Command
  /** The built CLI, as `node dist/bundle/cli/main.js ARGS`. */
  mlvc(cwd: string, args: string[]): Command
}

export interface SandboxPaths {
  home: string
  tmp: string
  /** GIT_CEILING_DIRECTORIES: the folder above every repository of the run. */
  ceiling: string
  path: string | undefined
}

/**
 * The whole environment of every process in a sandbox, built from nothing but PATH: inherited
 * variables (GIT_CONFIG_GLOBAL, XDG_CONFIG_HOME, MLVC_STORE, DBX_REPO, GIT_DIR …) would leak the
 * user's settings or repositories into the measurements.
 */
export function sandboxEnv(paths: SandboxPaths): NodeJS.ProcessEnv {
  return {
    PATH: paths.path ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: paths.home,
    TMPDIR: paths.tmp,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CEILING_DIRECTORIES: paths.ceiling,
    GIT_AUTHOR_NAME: 'mlvc bench',
    GIT_AUTHOR_EMAIL: 'bench@mlvc.invalid',
    GIT_COMMITTER_NAME: 'mlvc bench',
    GIT_COMMITTER_EMAIL: 'bench@mlvc.invalid',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
}

/** Settings every sandbox user has: branch names the scenarios rely on, no advice on stderr. */
export const BASE_GITCONFIG = `[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
`

/**
 * A fresh sandbox in the run folder. git-lfs is installed for the user (`git lfs install
 * --skip-repo`), so a plain `git clone` smudges; mlvc is installed per repository by
 * `initRepo` (`mlvc install` writes this HOME's ~/.gitconfig and the repository's hooks).
 */
export async function openSandbox(ctx: BenchContext, tool: GitTool): Promise<Sandbox> {
  const home = await ctx.work.tempDir(`home-${tool}`)
  const tmp = join(home, 'tmp')
  await mkdir(tmp)
  await writeFile(join(home, '.gitconfig'), BASE_GITCONFIG)
  const env = sandboxEnv({ home, tmp, ceiling: ctx.work.root, path: process.env.PATH })
  const gitBin = ctx.tools.git ?? 'git'
  const sandbox: Sandbox = {
    tool,
    home,
    env,
    git: (cwd, args) => ({ file: gitBin, args, cwd, env }),
    mlvc: (cwd, args) => ({ file: ctx.tools.node, args: [ctx.tools.mlvcCli, ...args], cwd, env }),
  }
  if (tool === 'git-lfs') await exec(sandbox.git(home, ['lfs', 'install', '--skip-repo']))
  return sandbox
}
