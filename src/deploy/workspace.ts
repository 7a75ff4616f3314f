import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { readObjects } from '../git/index.ts'
import type { VersionFile } from './inputs.ts'
import type { Runtime } from './spec.ts'

export interface WorkspaceInput {
  gitDir: string
  /** The version's folder (keyed by its inputs hash: equal inputs share one). */
  dir: string
  files: readonly VersionFile[]
  runtime: Runtime
  envDir: string
  /** Writes the content a stub names to `path` (the hub reads its store). */
  fetchContent(id: string, path: string): Promise<void>
}

const READY = '.mlvc-ready'

export async function workspaceReady(dir: string): Promise<boolean> {
  return stat(join(dir, READY)).then(
    () => true,
    () => false,
  )
}

/**
 * Writes a version's files once: the deployment's source at the root, the models it uses under
 * models/NAME/ (their content, not their stubs), and, for node, node_modules linked to the
 * environment. A marker written last says the folder is whole; versions with equal inputs (a
 * revert, a new branch) find it ready and start at once.
 */
export async function prepareWorkspace(input: WorkspaceInput): Promise<void> {
  if (await workspaceReady(input.dir)) return
  await rm(input.dir, { recursive: true, force: true })
  await mkdir(input.dir, { recursive: true })
  const plain = input.files.filter((f) => !f.id)
  const blobs = await readObjects(input.gitDir, [...new Set(plain.map((f) => f.sha))])
  for (const file of input.files) {
    const target = join(input.dir, file.target)
    await mkdir(dirname(target), { recursive: true })
    if (file.id) {
      await input.fetchContent(file.id, target).catch((err: unknown) => {
        throw new MlvcError(
          'DEPLOYMENT',
          `${file.path}: its content (${file.id}) could not be read from the hub`,
          {
            cause: err,
            hint: 'run mlvc push in the repository that committed it, then push again',
          },
        )
      })
    } else await writeFile(target, blobs.get(file.sha) ?? Buffer.alloc(0))
  }
  if (input.runtime === 'node') {
    await rm(join(input.dir, 'node_modules'), { recursive: true, force: true })
    await symlink(join(input.envDir, 'node_modules'), join(input.dir, 'node_modules'), 'dir')
  }
  await writeFile(join(input.dir, READY), '')
}
