import { resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import { initExpRepo, resolveRemote, saveConfig } from '../../experiments/index.ts'
import { findGitRepo } from '../../git/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { quote } from '../text.ts'
import { openExpContext, type RepoOption } from './context.ts'

/** Creates `.dbx/` in DIR (default: here); inside Git also `.dbx/.gitignore`. */
export async function expInit(io: Io, [dir]: [string | undefined]): Promise<CommandResult> {
  const root = resolve(io.cwd, dir ?? '.')
  const git = await findGitRepo(io.cwd)
  const repo = await initExpRepo(root, { gitignore: git?.workTree !== undefined })
  return {
    data: { root: repo.root, git: git?.workTree !== undefined },
    text: `Initialized experiment repository in ${repo.root}`,
  }
}

export async function expRemoteList(
  io: Io,
  _operands: [],
  options: RepoOption,
): Promise<CommandResult> {
  return editRemotes('list', {}, options, io)
}

export async function expRemoteAdd(
  io: Io,
  [name, url]: [string, string],
  options: RepoOption,
): Promise<CommandResult> {
  return editRemotes('add', { name, url }, options, io)
}

export async function expRemoteRemove(
  io: Io,
  [name]: [string],
  options: RepoOption,
): Promise<CommandResult> {
  return editRemotes('remove', { name }, options, io)
}

/** Lists remotes, or adds/removes one in `.dbx/config.json`. */
async function editRemotes(
  action: 'list' | 'add' | 'remove',
  args: { name?: string | undefined; url?: string | undefined },
  options: RepoOption,
  io: Io,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const remotes = { ...(repo.config.remotes ?? {}) }
  if (action === 'add') {
    if (!args.name || !args.url) throw new MlvcError('USAGE', 'usage: mlvc exp remote add NAME URL')
    remotes[args.name] = args.url
    resolveRemote({ ...repo, config: { ...repo.config, remotes } }, args.name)
    await saveConfig(repo, { ...repo.config, remotes })
  } else if (action === 'remove') {
    if (!args.name || !(args.name in remotes)) {
      throw new MlvcError('NOT_FOUND', `no remote named "${args.name ?? ''}"`)
    }
    delete remotes[args.name]
    await saveConfig(repo, { ...repo.config, remotes })
  }
  const lines = Object.entries(remotes).map(([name, url]) => `${quote(name)}\t${quote(url)}`)
  return { data: remotes, text: action === 'list' ? lines.join('\n') : '' }
}
