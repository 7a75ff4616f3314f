import { MlvcError } from '../../core/index.ts'
import {
  type ConfigScope,
  hooksInstalled,
  installHooks,
  removeGitConfig,
  uninstallHooks,
  writeGitConfig,
} from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { mlvcCommand } from '../repo.ts'

/** --local, --global, --system: where git's settings go (global by default). */
export interface ScopeOptions {
  local?: boolean | undefined
  global?: boolean | undefined
  system?: boolean | undefined
}

const scopeOf = (o: ScopeOptions): ConfigScope =>
  o.local ? 'local' : o.system ? 'system' : 'global'

/**
 * Writes git's filter and merge-driver settings (global by default, like git-lfs, so that every
 * clone on this machine uses the filter) and, inside a repository, mlvc's hooks.
 */
export async function install(
  io: Io,
  _operands: [],
  options: ScopeOptions,
): Promise<CommandResult> {
  const scope = scopeOf(options)
  const ctx = await repoContext(io.cwd)
  if (scope === 'local' && !ctx.git)
    throw new MlvcError('NOT_A_REPO', '--local needs a Git repository')
  const cmd = mlvcCommand()
  await writeGitConfig(io.cwd, scope, cmd)
  const hooks = ctx.git?.workTree ? await installHooks(ctx.git.workTree, cmd) : []
  const where = ctx.git?.workTree ? ` and hooks in ${ctx.git.workTree}` : ''
  return {
    data: { scope, hooks, command: cmd },
    text: `mlvc installed: git config (${scope})${where}`,
  }
}

export async function uninstall(
  io: Io,
  _operands: [],
  options: ScopeOptions,
): Promise<CommandResult> {
  const scope = scopeOf(options)
  const ctx = await repoContext(io.cwd)
  await removeGitConfig(io.cwd, scope)
  const hooks =
    ctx.git?.workTree && (await hooksInstalled(ctx.git.workTree).catch(() => true))
      ? await uninstallHooks(ctx.git.workTree)
      : []
  return {
    data: { scope, hooks },
    text: `mlvc uninstalled: git config (${scope})${hooks.length > 0 ? ', hooks' : ''}`,
  }
}
