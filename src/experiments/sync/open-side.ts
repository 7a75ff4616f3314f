import { existsSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import { folderRemote, type Remote } from '../../remote/index.ts'
import { type DbxConfig, type ExpRepo, initExpRepo, openExpRepo, saveConfig } from '../repo.ts'
import type { ExpSide } from './index.ts'
import { localSide } from './local-side.ts'
import { remoteSide } from './remote-side.ts'

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i

export interface OpenSideOptions {
  /** Named storage roots of this machine, for local repositories. */
  roots?: Record<string, string> | undefined
  /** Create a local repository that does not exist yet (a sync's destination). @default false */
  create?: boolean | undefined
  /** Relative paths are resolved against this folder. @default process.cwd() */
  cwd?: string | undefined
  /** config.json of a repository created here (e.g. the source's `repofiles` setting). */
  config?: DbxConfig | undefined
}

/**
 * One end of a sync from a string: a folder path is a local repository (symlinks and all); a
 * `file://` URL is the object layout on a folder remote, the layout S3 and the hub will serve.
 */
export async function openSide(
  spec: string | Remote,
  options: OpenSideOptions = {},
): Promise<ExpSide> {
  if (typeof spec !== 'string') return remoteSide(spec)
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase()
  if (scheme === 'file') return remoteSide(folderRemote(spec, spec))
  if (scheme !== undefined) {
    throw new MlvcError('USAGE', `${spec}: ${scheme}:// experiment remotes are not supported yet`, {
      hint: 'use a folder path (a repository) or a file:// URL (the object layout)',
    })
  }
  const dir = resolve(options.cwd ?? process.cwd(), spec)
  if (options.create && !existsSync(join(dir, '.dbx'))) {
    const repo = await initExpRepo(dir, { roots: options.roots })
    if (options.config) await saveConfig(repo, options.config)
    return localSide(repo)
  }
  return localSide(await openExpRepo(dir, { roots: options.roots }))
}

/** True for a URL (scheme://…), false for a path. */
export function isUrl(spec: string): boolean {
  return SCHEME.test(spec)
}

/**
 * A remote named in `.dbx/config.json` ("remotes": {"origin": "file:///…"}), or `nameOrUrl` itself
 * when it is a path or URL. Relative paths in the config are relative to the repository root.
 */
export function resolveRemote(repo: ExpRepo, nameOrUrl = 'origin'): string {
  const configured = repo.config.remotes?.[nameOrUrl]
  if (configured !== undefined) {
    return SCHEME.test(configured) || isAbsolute(configured)
      ? configured
      : resolve(repo.root, configured)
  }
  if (SCHEME.test(nameOrUrl) || nameOrUrl.includes('/') || nameOrUrl.startsWith('.'))
    return nameOrUrl
  throw new MlvcError(
    'NOT_FOUND',
    `no remote named "${nameOrUrl}" in ${join(repo.dbx, 'config.json')}`,
    {
      hint: `add one: mlvc exp remote add ${nameOrUrl} <path or file:// URL>`,
    },
  )
}
