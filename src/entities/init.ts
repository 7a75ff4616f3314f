import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { MlvcError, writeFileAtomic } from '../core/index.ts'
import {
  checkName,
  type EntityRef,
  type EntityRepo,
  entityPaths,
  MANIFEST_FILE,
  specName,
} from './layout.ts'
import { type EntitySpec, formatSpec, type Mutability } from './spec.ts'
import { writeHead } from './state.ts'

export interface InitOptions {
  categories?: readonly string[] | undefined
  remote?: string | undefined
  mutability?: Mutability | undefined
}

/** The entity folder's .gitignore: Git keeps the spec and the manifest, the store the files. */
export function gitignoreText(ref: EntityRef): string {
  return [
    '# Written by mlvc: the files of this entity are in the mlvc store, listed in MANIFEST;',
    '# Git keeps only the spec and the manifest.',
    '/*',
    '!/.gitignore',
    `!/${specName(ref)}`,
    `!/${MANIFEST_FILE}`,
    '',
  ].join('\n')
}

/** Creates the entity folder `KIND/NAME/` with its spec (version 0) and .gitignore. */
export async function initEntity(
  repo: EntityRepo,
  ref: EntityRef,
  options: InitOptions = {},
): Promise<EntitySpec> {
  checkName(ref.name, `${ref.kind} name`)
  const categories = [...(options.categories ?? [])]
  for (const c of categories) checkName(c, 'category')
  if (options.remote !== undefined) repo.openRemote(options.remote)
  const paths = entityPaths(repo, ref)
  if (existsSync(paths.spec))
    throw new MlvcError('EXISTS', `${ref.kind} ${ref.name} exists already (${paths.spec})`, {
      hint: `mlvc ${ref.kind} status ${ref.name}`,
    })
  const spec: EntitySpec = {
    kind: ref.kind,
    name: ref.name,
    categories,
    version: 0,
    mutability: options.mutability ?? 'strict',
    remote: options.remote,
  }
  await mkdir(paths.dir, { recursive: true })
  await writeFileAtomic(paths.gitignore, gitignoreText(ref))
  await writeFileAtomic(paths.spec, formatSpec(spec))
  await writeHead(paths, { partial: false })
  return spec
}
