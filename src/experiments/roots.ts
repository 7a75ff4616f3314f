import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { type ConfigTree, configValue, loadConfig, MlvcError } from '../core/index.ts'
import { findGitRepo } from '../git/index.ts'

/** The config key of the machine's named storage roots: experiments.roots.<name>: <path>. */
export const ROOTS_KEY = 'experiments.roots'

/** Reads `experiments.roots` from a loaded mlvc config; paths may start with "~/". */
export function storageRoots(tree: ConfigTree): Record<string, string> {
  const value = configValue(tree, ROOTS_KEY)
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MlvcError('BAD_CONFIG', `config key ${ROOTS_KEY} must map root names to paths`)
  }
  const roots: Record<string, string> = {}
  for (const [name, path] of Object.entries(value)) {
    if (typeof path !== 'string' || path.length === 0) {
      throw new MlvcError('BAD_CONFIG', `config key ${ROOTS_KEY}.${name} must be a path`)
    }
    const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
    if (!isAbsolute(expanded)) {
      throw new MlvcError('BAD_CONFIG', `config key ${ROOTS_KEY}.${name}: ${path} is not absolute`)
    }
    roots[name] = expanded
  }
  return roots
}

/**
 * The named storage roots for a program running in `cwd`: the user's mlvc config merged with the
 * enclosing Git work tree's `.mlvc/config.yaml` and `.mlvc/config.local.yaml`.
 */
export async function loadStorageRoots(cwd: string): Promise<Record<string, string>> {
  const git = await findGitRepo(cwd)
  const { tree } = await loadConfig({ repoDir: git?.workTree })
  return storageRoots(tree)
}
