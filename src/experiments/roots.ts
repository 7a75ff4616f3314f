import { type LoadedConfig, loadConfig, readSetting } from '../core/index.ts'
import { findGitRepo } from '../git/index.ts'

/** The config key of the machine's named storage roots: experiments.roots.<name>: <path>. */
export const ROOTS_KEY = 'experiments.roots'

/** Reads `experiments.roots` from a loaded mlvc config: absolute paths ("~/" is the home folder). */
export function storageRoots(config: LoadedConfig): Record<string, string> {
  return readSetting(config, ROOTS_KEY)
}

/**
 * The named storage roots for a program running in `cwd`: the user's mlvc config merged with the
 * enclosing Git work tree's `.mlvc/config.yaml` and `.mlvc/config.local.yaml`.
 */
export async function loadStorageRoots(cwd: string): Promise<Record<string, string>> {
  const git = await findGitRepo(cwd)
  return storageRoots(await loadConfig({ repoDir: git?.workTree }))
}
