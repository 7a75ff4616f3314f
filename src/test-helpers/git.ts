import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { CLI, type CliResult, runCommand } from './index.ts'

/**
 * An isolated user for end-to-end tests with real git: its own HOME (so ~/.gitconfig and
 * ~/.config/mlvc are private), no system git config, fixed author.
 */
export interface GitSandbox {
  home: string
  env: NodeJS.ProcessEnv
  /** Runs git; fails the test if it exits non-zero (use `gitResult` to inspect failures). */
  git(cwd: string, ...args: string[]): Promise<string>
  gitResult(cwd: string, ...args: string[]): Promise<CliResult>
  mlvc(cwd: string, ...args: string[]): Promise<CliResult>
}

export function gitSandbox(root: string, name: string): GitSandbox {
  const home = join(root, `home-${name}`)
  mkdirSync(home, { recursive: true })
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Ada',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
    LANG: 'C.UTF-8',
  }
  spawnSync('git', ['config', '--global', 'init.defaultBranch', 'main'], { env })
  spawnSync('git', ['config', '--global', 'advice.detachedHead', 'false'], { env })
  const gitResult = (cwd: string, ...args: string[]) => runCommand('git', args, { cwd, env })
  return {
    home,
    env,
    gitResult,
    async git(cwd, ...args) {
      const result = await gitResult(cwd, ...args)
      expect(result.code, `git ${args.join(' ')}\n${result.stderr}`).toBe(0)
      return result.stdout
    },
    mlvc: (cwd, ...args) => runCommand(process.execPath, [CLI, ...args], { cwd, env }),
  }
}

/**
 * Makes `dir` a repository with mlvc set up (mlvc must be installed for the sandbox user): *.bin
 * and *.pt tracked, the folder `remote` as mlvc remote origin, and files above 4 MiB written by mlvc
 * after git's checkout (a small git.inlineSmudgeLimit, so that small files exercise both paths).
 */
export async function mlvcRepo(user: GitSandbox, dir: string, remote: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  await user.git(dir, 'init', '-q')
  await user.mlvc(dir, 'init')
  writeFileSync(join(dir, '.mlvc/config.yaml'), 'git:\n  inlineSmudgeLimit: 4194304\n')
  expect((await user.mlvc(dir, 'track', '*.bin', '*.pt')).code).toBe(0)
  expect((await user.mlvc(dir, 'remote', 'add', 'origin', remote)).code).toBe(0)
  await user.git(dir, 'add', '.gitattributes', '.mlvc')
  await user.git(dir, 'commit', '-qm', 'track models')
}

/**
 * Puts `text` into the index at `path` as it is, past the clean filter (as a hand-edited or
 * damaged stub would arrive from elsewhere).
 */
export async function stageBlob(
  user: GitSandbox,
  dir: string,
  path: string,
  text: string,
): Promise<void> {
  const written = await runCommand('git', ['hash-object', '-w', '--stdin'], {
    cwd: dir,
    env: user.env,
    input: text,
  })
  expect(written.code, written.stderr).toBe(0)
  await user.git(
    dir,
    'update-index',
    '--add',
    '--cacheinfo',
    `100644,${written.stdout.trim()},${path}`,
  )
}

/** Adds and commits `path` without mlvc's filter, as on a machine where mlvc is not installed. */
export async function commitRaw(user: GitSandbox, dir: string, path: string): Promise<void> {
  const bypass = ['-c', 'filter.mlvc.process=', '-c', 'filter.mlvc.required=false']
  await user.git(dir, ...bypass, 'add', path)
  await user.git(dir, 'commit', '-qm', `${path}, raw`)
}
