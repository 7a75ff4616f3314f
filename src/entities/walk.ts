import { type Dirent, lstatSync, readdirSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { fsError, isErrno, MlvcError } from '../core/index.ts'
import { comparePaths, pathProblem } from './manifest.ts'

export interface WalkedFile {
  path: string
  abs: string
  stat: Stats
}

function keyOf(entry: Dirent): string {
  // A folder sorts as "name/": its files then come exactly where their full paths sort.
  return entry.isDirectory() ? `${entry.name}/` : entry.name
}

function listSorted(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      comparePaths(keyOf(a), keyOf(b)),
    )
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw fsError(err, 'listing', dir)
  }
}

/**
 * The files of an entity folder in comparePaths order, streamed folder by folder, without the
 * entity's metadata files at its top (`skip`). A symbolic link, a device or a path a manifest
 * cannot hold is an error naming it: an entity holds regular files only.
 */
export function* walkEntity(root: string, skip: ReadonlySet<string>): Generator<WalkedFile> {
  function* walk(dir: string, prefix: string): Generator<WalkedFile> {
    for (const entry of listSorted(dir)) {
      const path = prefix + entry.name
      if (prefix === '' && skip.has(entry.name)) continue
      const abs = join(dir, entry.name)
      if (entry.isDirectory()) {
        yield* walk(abs, `${path}/`)
        continue
      }
      const problem = pathProblem(path)
      if (problem)
        throw new MlvcError('UNSAFE_PATH', `${abs}: the path ${problem}`, {
          hint: 'rename the file',
        })
      let stat: Stats
      try {
        stat = lstatSync(abs)
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue
        throw fsError(err, 'reading', abs)
      }
      if (!stat.isFile())
        throw new MlvcError(
          'UNSAFE_PATH',
          `${abs}: not a regular file (a symbolic link, device or socket)`,
          {
            hint: 'an entity holds regular files only: replace the link by the file, or move it out',
          },
        )
      yield { path, abs, stat }
    }
  }
  yield* walk(root, '')
}

/** True when `path` is one of `prefixes` or inside one (prefixes without trailing "/"). */
export function under(path: string, prefixes: readonly string[] | undefined): boolean {
  if (!prefixes) return true
  return prefixes.some((p) => p === '' || path === p || path.startsWith(`${p}/`))
}
