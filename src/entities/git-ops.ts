import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsError, MlvcError, uniqueName } from '../core/index.ts'
import { git, runGit } from '../git/index.ts'

/** True when refs/tags/TAG exists. */
export async function tagExists(workTree: string, tag: string): Promise<boolean> {
  const result = await runGit(['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], {
    cwd: workTree,
  })
  return result.code === 0
}

/** Every tag of the repository (names only). */
export async function listTags(workTree: string): Promise<string[]> {
  const out = await git(['for-each-ref', '--format=%(refname:strip=2)', 'refs/tags/'], {
    cwd: workTree,
  })
  return out.split('\n').filter(Boolean)
}

/** Which of `specs` (REV:PATH) exist, in one git call. */
export async function existingBlobs(
  workTree: string,
  specs: readonly string[],
): Promise<Set<string>> {
  if (specs.length === 0) return new Set()
  const out = await git(['cat-file', '--batch-check=%(objecttype)'], {
    cwd: workTree,
    input: `${specs.join('\n')}\n`,
  })
  const found = new Set<string>()
  out.split('\n').forEach((line, i) => {
    const spec = specs[i]
    if (line === 'blob' && spec !== undefined) found.add(spec)
  })
  return found
}

/** The text of a small file at a revision (a spec). */
export async function showFile(workTree: string, rev: string, path: string): Promise<string> {
  return git(['cat-file', 'blob', `${rev}:${path}`], { cwd: workTree })
}

/**
 * Streams a file at a revision into `dest` (a manifest: never whole in memory), atomically.
 */
export async function blobToFile(
  workTree: string,
  rev: string,
  path: string,
  dest: string,
): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true })
  const tmp = `${dest}.${uniqueName('tmp')}`
  const fd = openSync(tmp, 'w')
  try {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>(
      (resolve, reject) => {
        const child = spawn('git', ['cat-file', 'blob', `${rev}:${path}`], {
          cwd: workTree,
          stdio: ['ignore', fd, 'pipe'],
        })
        let err = ''
        child.stderr?.on('data', (d: Buffer) => {
          err += d.toString()
        })
        child.on('error', (e) =>
          reject(new MlvcError('GIT', `could not run git: ${e.message}`, { cause: e })),
        )
        child.on('close', (c) => resolve({ code: c ?? 1, stderr: err }))
      },
    )
    closeSync(fd)
    if (code !== 0)
      throw new MlvcError(
        'NOT_FOUND',
        `${rev}:${path} is not in Git: ${stderr.trim().split('\n').at(-1) ?? ''}`,
        {
          hint: 'git fetch --tags gets the tags of the remote repository',
        },
      )
    renameSync(tmp, dest)
  } catch (err) {
    try {
      closeSync(fd)
    } catch {}
    rmSync(tmp, { force: true })
    throw err instanceof MlvcError ? err : fsError(err, 'writing', dest)
  }
}

/**
 * Commits exactly `paths` (whatever else is staged stays staged and uncommitted); returns the
 * commit's id.
 */
export async function commitPaths(
  workTree: string,
  paths: readonly string[],
  message: string,
): Promise<string> {
  await git(['add', '--', ...paths], { cwd: workTree })
  await git(['commit', '--quiet', '-m', message, '--only', '--', ...paths], { cwd: workTree })
  return (await git(['rev-parse', 'HEAD'], { cwd: workTree })).trim()
}

export async function tagCommit(workTree: string, tag: string, commit: string): Promise<void> {
  await git(['tag', tag, commit], { cwd: workTree })
}
