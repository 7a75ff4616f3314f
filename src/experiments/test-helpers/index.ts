/** Helpers for the experiments tests (not part of the build). */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { git } from '../../git/index.ts'

export const FIXTURE = resolve(fileURLToPath(import.meta.url), '../../fixtures/dbxlogger-repo')

/** A copy of the dbxlogger fixture repository (symlinks kept as they are). */
export function copyFixture(into: string, name = 'fixture'): string {
  const dir = join(into, name)
  cpSync(FIXTURE, dir, { recursive: true, verbatimSymlinks: true })
  return dir
}

/** A Git repository with one commit. */
export async function makeGitRepo(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
  }
  await git(['init', '-q', '-b', 'main'], { cwd: dir, env })
  writeFileSync(join(dir, 'train.py'), 'lr = 0.01\n')
  await git(['add', 'train.py'], { cwd: dir, env })
  await git(['commit', '-q', '-m', 'first'], { cwd: dir, env })
  return dir
}
