import { join } from 'node:path'
import { ensureDir, MlvcError, updateConfigFile } from '../../core/index.ts'
import { chooseRemote, listRemotes, openRemote } from '../../remote/index.ts'
import { type RepoContext, repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { quote } from '../text.ts'

function configRoot(ctx: RepoContext): string {
  if (!ctx.root) {
    throw new MlvcError(
      'NOT_A_REPO',
      `${ctx.cwd} is not inside a Git repository or an mlvc folder`,
      {
        hint: 'run mlvc init first',
      },
    )
  }
  return ctx.root
}

async function configFile(ctx: RepoContext, local: boolean): Promise<string> {
  const dir = join(configRoot(ctx), '.mlvc')
  await ensureDir(dir)
  return join(dir, local ? 'config.local.yaml' : 'config.yaml')
}

export async function remoteAdd(
  name: string,
  url: string,
  options: { local: boolean; default: boolean },
  io: Io,
): Promise<CommandResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new MlvcError('USAGE', `"${name}" is not a valid remote name (letters, digits, . _ -)`)
  }
  const ctx = await repoContext(io.cwd)
  openRemote({ name, url }, configRoot(ctx))
  if (listRemotes(ctx.config.tree).some((r) => r.name === name)) {
    throw new MlvcError('USAGE', `remote ${name} exists already`, {
      hint: `mlvc remote remove ${name} first`,
    })
  }
  const makeDefault = options.default || listRemotes(ctx.config.tree).length === 0
  await updateConfigFile(await configFile(ctx, options.local), (doc) => {
    doc.setIn(['remotes', name, 'url'], url)
    if (makeDefault) doc.setIn(['remote', 'default'], name)
    return true
  })
  return {
    data: { name, url, default: makeDefault },
    text: `added remote ${name} → ${url}${makeDefault ? ' (default)' : ''}`,
  }
}

export async function remoteRemove(name: string, io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  let found = false
  for (const local of [false, true]) {
    await updateConfigFile(await configFile(ctx, local), (doc) => {
      const here = doc.hasIn(['remotes', name])
      const isDefault = doc.getIn(['remote', 'default']) === name
      if (here) doc.deleteIn(['remotes', name])
      if (isDefault) doc.deleteIn(['remote', 'default'])
      found ||= here
      return here || isDefault
    })
  }
  if (!found) throw new MlvcError('USAGE', `no remote named ${name}`)
  return { data: { removed: name }, text: `removed remote ${name}` }
}

export async function remoteDefault(name: string, io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  chooseRemote(ctx.config.tree, name)
  await updateConfigFile(await configFile(ctx, false), (doc) => {
    doc.setIn(['remote', 'default'], name)
    return true
  })
  return { data: { default: name }, text: `default remote: ${name}` }
}

export async function remoteList(io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const remotes = listRemotes(ctx.config.tree)
  let fallback: string | undefined
  try {
    fallback = chooseRemote(ctx.config.tree).name
  } catch {
    fallback = undefined
  }
  const rows = remotes.map((r) => ({ ...r, default: r.name === fallback }))
  return {
    data: rows,
    text: rows.map((r) => `${r.default ? '*' : ' '} ${r.name}\t${quote(r.url)}`).join('\n'),
  }
}
