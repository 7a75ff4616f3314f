import { linkSync, lstatSync, renameSync, type Stats, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fsError, isErrno, MlvcError } from './errors.ts'

/**
 * What a write may find at its target: `any` replaces whatever is there (rename's own rule, for
 * files only mlvc writes); `file` replaces a regular file or creates one; `none` only creates.
 * Under `file` and `none`, anything that is not a regular file (a directory, a symbolic link —
 * dangling or not —, a device, a FIFO, a socket) is refused: mlvc writes only regular files.
 */
export type ReplaceRule = 'any' | 'file' | 'none'

function kindOf(info: Stats): string | undefined {
  if (info.isFile()) return undefined
  if (info.isSymbolicLink()) return 'a symbolic link'
  if (info.isDirectory()) return 'a directory'
  if (info.isCharacterDevice()) return 'a character device'
  if (info.isBlockDevice()) return 'a block device'
  if (info.isFIFO()) return 'a FIFO (named pipe)'
  if (info.isSocket()) return 'a socket'
  return 'not a regular file'
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw fsError(err, 'checking', path)
  }
}

function exists(path: string): MlvcError {
  return new MlvcError('USAGE', `${path} already exists`, { hint: 'pass --force to replace it' })
}

/**
 * Throws USAGE naming `path` when `rule` forbids writing there (see ReplaceRule). Call it before
 * a long write, to fail early; placeFile checks again when the file is put there.
 */
export function checkWriteTarget(path: string, rule: ReplaceRule): void {
  if (rule === 'any') return
  const info = lstatOrUndefined(path)
  if (!info) return
  const kind = kindOf(info)
  if (kind !== undefined) {
    throw new MlvcError('USAGE', `${path} is ${kind}; mlvc writes only regular files`, {
      hint:
        kind === 'a symbolic link'
          ? 'mlvc does not write through symbolic links: name the file itself, or remove the link'
          : 'choose another path',
    })
  }
  if (rule === 'none') throw exists(path)
}

/**
 * Renames the finished file `tmp` to `path` under `rule`. Under `none` the file is hard-linked
 * into place, which fails if anything at all is there, so nothing appearing meanwhile is
 * replaced (on file systems without hard links: a check, then a rename). Under `file` a check
 * runs just before the rename: a rename replaces a symbolic link itself, never what it points to,
 * but it would replace a device node or a FIFO. `tmp` is gone afterwards, unless this throws.
 */
export function placeFile(tmp: string, path: string, rule: ReplaceRule): void {
  if (rule === 'none') {
    try {
      linkSync(tmp, path)
      unlinkSync(tmp)
      return
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        checkWriteTarget(path, 'file')
        throw exists(path)
      }
      if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) {
        throw err
      }
    }
  }
  checkWriteTarget(path, rule)
  renameSync(tmp, path)
}

/**
 * Throws UNSAFE_PATH when a folder on the way from `root` to `root/relPath` is a symbolic link:
 * a write there would land outside `root`. Git refuses to write beyond a symbolic link in a work
 * tree for the same reason.
 */
export function checkNoLinkedParents(root: string, relPath: string): void {
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.')
  let at = root
  for (const part of parts.slice(0, -1)) {
    at = join(at, part)
    if (lstatOrUndefined(at)?.isSymbolicLink()) {
      throw new MlvcError('UNSAFE_PATH', `${join(root, relPath)}: ${at} is a symbolic link`, {
        hint: 'mlvc does not write beyond a symbolic link in a work tree (neither does git); replace the link by a folder',
      })
    }
  }
}
