import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, fsError, must } from '../../core/index.ts'
import { installedFilter } from '../../git/index.ts'
import { openStore } from '../../store/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { ensureHooks, requireGit } from '../repo.ts'

const CONFIG_TEMPLATE = `# mlvc settings shared with everyone who clones this repository.
# Per-machine settings (credentials, store.path) go in config.local.yaml, which is not committed.
# store:
#   path: /shared/mlvc-store   # a store shared by several repositories or users
#   fsync: true                # flush every pack to disk before a command reports success
`

const GITIGNORE = 'config.local.yaml\nstore/\n'

async function writeIfMissing(path: string, text: string): Promise<boolean> {
  if (existsSync(path)) return false
  try {
    await writeFile(path, text, { flag: 'wx' })
  } catch (err) {
    throw fsError(err, 'writing', path)
  }
  return true
}

/** Creates .mlvc/ (config and ignore file) and the store where the context says it lives. */
export async function init(io: Io): Promise<CommandResult> {
  const before = await repoContext(io.cwd)
  const root = before.root ?? io.cwd
  const mlvcDir = join(root, '.mlvc')
  await ensureDir(mlvcDir)
  const created: string[] = []
  if (await writeIfMissing(join(mlvcDir, 'config.yaml'), CONFIG_TEMPLATE))
    created.push('.mlvc/config.yaml')
  if (await writeIfMissing(join(mlvcDir, '.gitignore'), GITIGNORE)) created.push('.mlvc/.gitignore')
  const ctx = await repoContext(root)
  const storeDir = must(ctx.storeDir, `the store folder of ${root}, which has .mlvc/`)
  const store = await openStore(storeDir, { create: true })
  await store.close()
  if (ctx.git?.workTree && (await installedFilter(ctx.git.workTree))) {
    await ensureHooks(requireGit(ctx), io)
  }
  const data = {
    root,
    store: storeDir,
    storeSource: ctx.storeSource,
    git: ctx.git !== undefined,
    created,
  }
  const where = ctx.git ? 'Git repository' : 'folder'
  return { data, text: `Initialized mlvc in ${where} ${root}\nstore: ${storeDir}` }
}
