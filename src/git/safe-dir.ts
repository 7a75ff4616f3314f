import { closeSync, constants, existsSync, lstatSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { fileError, fsError, isErrno, type MlvcError } from '../core/index.ts'

/**
 * A work-tree file's folder, opened one component at a time without following symlinks. `path`
 * names the file inside that very folder (through /proc/self/fd), so a file renamed there lands in
 * it even if someone swaps the folder, or a parent, for a symlink meanwhile: mlvc never writes
 * through a symlink or outside the work tree.
 */
export interface WorkTreeFile {
  /** The file, by way of its opened folder. */
  path: string
  close(): void
}

const NO_FOLLOW_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW
/** Linux (and WSL) have it; elsewhere components are checked with lstat, which leaves a race. */
const PROC_FD = existsSync('/proc/self/fd')

function unsafe(rel: string, why: string): MlvcError {
  return fileError(
    'UNSAFE_PATH',
    rel,
    `${why}; mlvc writes only into the work tree's own folders`,
    {
      hint: 'replace the symlink with a folder (or remove it) and run mlvc pull',
    },
  )
}

/** True when the component that failed to open is a symlink (else it is absent, or not a folder). */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/**
 * Opens the folder of `file` (a '/'-separated path in the work tree). Undefined when the folder does
 * not exist or a component is not a folder (nothing mlvc wrote is there); UNSAFE_PATH when a
 * component is a symlink, or `..`.
 */
export function openWorkTreeFile(workTree: string, file: string): WorkTreeFile | undefined {
  const parts = file.split('/').filter((p) => p !== '' && p !== '.')
  const name = parts.pop()
  if (name === undefined || name === '..' || parts.includes('..'))
    throw unsafe(file, 'the path leaves its folder')
  if (!PROC_FD) return checkedFile(workTree, file, parts, name)
  let fd = openSync(workTree, constants.O_RDONLY | constants.O_DIRECTORY)
  for (const [i, part] of parts.entries()) {
    const path = `/proc/self/fd/${fd}/${part}`
    let next: number
    try {
      next = openSync(path, NO_FOLLOW_DIR)
    } catch (err) {
      const symlink = isSymlink(path)
      closeSync(fd)
      if (symlink) throw unsafe(file, `its folder ${parts.slice(0, i + 1).join('/')} is a symlink`)
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
      throw fsError(err, 'opening', join(workTree, file))
    }
    closeSync(fd)
    fd = next
  }
  const dir = fd
  return { path: `/proc/self/fd/${dir}/${name}`, close: () => closeSync(dir) }
}

function checkedFile(
  workTree: string,
  file: string,
  parts: string[],
  name: string,
): WorkTreeFile | undefined {
  let path = workTree
  for (const [i, part] of parts.entries()) {
    path = join(path, part)
    let info: import('node:fs').Stats
    try {
      info = lstatSync(path)
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
      throw fsError(err, 'opening', path)
    }
    if (info.isSymbolicLink())
      throw unsafe(file, `its folder ${parts.slice(0, i + 1).join('/')} is a symlink`)
    if (!info.isDirectory()) return undefined
  }
  return { path: join(path, name), close: () => undefined }
}
