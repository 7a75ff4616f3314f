import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { removeTree } from './fsutil.ts'

/**
 * The harness's folders under the work folder (default `.bench/`, git-ignored):
 *   data/          generated inputs, written once and reused by later runs
 *   run-<pid>/     this run's temporary stores and repositories, removed at the end
 * Both sit on one file system, so inputs can be hard-linked into work trees.
 */
export interface Workspace {
  root: string
  data: string
  run: string
  /** An empty git config file, so the peers' repositories ignore the user's settings. */
  gitConfig: string
  /** An empty folder for MLVC_CONFIG_HOME, so mlvc ignores the user's config. */
  mlvcConfigHome: string
  /** A fresh empty folder inside run/. */
  tempDir(label: string): Promise<string>
  dispose(): Promise<void>
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

/**
 * Removes what harness processes that died (Ctrl-C) left behind: their run folders, and inputs
 * they were still writing (`*.tmp-<pid>`).
 */
async function removeStale(dir: string, pattern: RegExp): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = Number(pattern.exec(name)?.[1] ?? Number.NaN)
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      await removeTree(join(dir, name))
    }
  }
}

export async function openWorkspace(root: string): Promise<Workspace> {
  const data = join(root, 'data')
  const run = join(root, `run-${process.pid}`)
  await mkdir(data, { recursive: true })
  await removeStale(root, /^run-(\d+)$/)
  await removeStale(data, /\.tmp-(\d+)$/)
  await mkdir(run, { recursive: true })
  const gitConfig = join(run, 'gitconfig')
  await writeFile(gitConfig, '')
  const mlvcConfigHome = join(run, 'mlvc-config')
  await mkdir(mlvcConfigHome)
  return {
    root,
    data,
    run,
    gitConfig,
    mlvcConfigHome,
    tempDir: (label) => mkdtemp(join(run, `${label.replace(/[^\w.-]/g, '_')}-`)),
    dispose: async () => {
      if (existsSync(run)) await removeTree(run)
    },
  }
}
