import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
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
