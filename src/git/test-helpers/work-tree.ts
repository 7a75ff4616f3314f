import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { vi } from 'vitest'
import { checkpointStubLines, ingestCheckpoint } from '../../checkpoint/index.ts'
import { openStore, type Store } from '../../store/index.ts'
import { git } from '../exec.ts'
import { type RepoSession, repoSession } from '../session.ts'
import type { Stub } from '../stub.ts'
import type { RepoWarning } from '../warnings.ts'

/**
 * Git and mlvc as a private user for the test file: its own HOME and mlvc config folder, no
 * system config, a fixed author. Library calls in this process run git with this environment.
 */
export function isolateGit(root: string): void {
  const home = join(root, 'home')
  mkdirSync(home, { recursive: true })
  vi.stubEnv('HOME', home)
  vi.stubEnv('XDG_CONFIG_HOME', join(home, '.config'))
  vi.stubEnv('MLVC_CONFIG_HOME', join(home, 'mlvc'))
  vi.stubEnv('GIT_CONFIG_NOSYSTEM', '1')
  vi.stubEnv('GIT_AUTHOR_NAME', 'Ada')
  vi.stubEnv('GIT_AUTHOR_EMAIL', 'ada@example.com')
  vi.stubEnv('GIT_COMMITTER_NAME', 'Ada')
  vi.stubEnv('GIT_COMMITTER_EMAIL', 'ada@example.com')
}

export interface TestWorkTree {
  workTree: string
  gitDir: string
  /** Runs git in the work tree. */
  git(...args: string[]): Promise<string>
}

/**
 * A Git repository in which `*.bin` is tracked by mlvc (`.gitattributes`, committed) and whose
 * `.mlvc/config.yaml` holds `config`. mlvc's filter is not configured: `git add` stores a stub
 * written into the work tree as it is, which is how these tests put stubs into commits.
 */
export async function testWorkTree(dir: string, config = ''): Promise<TestWorkTree> {
  mkdirSync(join(dir, '.mlvc'), { recursive: true })
  const run = (...args: string[]) => git(args, { cwd: dir })
  await run('init', '-q', '-b', 'main')
  writeFileSync(join(dir, '.gitattributes'), '*.bin filter=mlvc diff=mlvc merge=mlvc -text\n')
  writeFileSync(join(dir, '.mlvc/config.yaml'), config)
  await run('add', '.gitattributes', '.mlvc/config.yaml')
  await run('commit', '-qm', 'track *.bin')
  return { workTree: dir, gitDir: join(dir, '.git'), git: run }
}

/** A store in `dir`, created. */
export function testStore(dir: string): Promise<Store> {
  return openStore(dir, { create: true, fsync: false })
}

/** Stores `data` (a checkpoint tensor by tensor) and returns its stub, as the filter writes it. */
export async function storeFile(store: Store, path: string, data: Uint8Array): Promise<Stub> {
  writeFileSync(path, data)
  const { size, sha256, id, meta } = await ingestCheckpoint(store, path, undefined)
  await store.commit()
  return meta ? { size, sha256, id, extra: checkpointStubLines(meta) } : { size, sha256, id }
}

/** A session on the work tree with this store; warnings are collected in `warnings`. */
export function testSession(
  tree: TestWorkTree,
  store: Store,
): RepoSession & { warnings: RepoWarning[] } {
  const warnings: RepoWarning[] = []
  const session = repoSession({
    workTree: tree.workTree,
    gitDir: tree.gitDir,
    store: async () => store,
    onWarning: (warning) => warnings.push(warning),
  })
  return Object.assign(session, { warnings })
}
