import { isAbsolute, relative, resolve, sep } from 'node:path'
import { MlvcError } from '../core/index.ts'

/** Names a file inside an experiment may not take: they are dbx's own. */
export function isReservedName(name: string): boolean {
  const base = name.split('/').at(-1) ?? name
  return name === 'meta.json' || name === 'files.json' || base.endsWith('log.jsonl')
}

/**
 * Checks a relative path taken from a name, a manifest or an index: "/"-separated, no empty, "." or
 * ".." parts, no hidden parts (dbx keeps its own files there), no backslashes or control characters.
 * Throws UNSAFE_PATH naming `what` (where the path came from).
 */
export function checkRelPath(path: string, what: string): string {
  const parts = path.split('/')
  const bad =
    path.length === 0 ||
    path.startsWith('/') ||
    path.includes('\\') ||
    hasControlCharacter(path) ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.startsWith('.'))
  if (bad) {
    throw new MlvcError('UNSAFE_PATH', `${what}: "${path}" is not a safe relative path`, {
      hint: 'names are "/"-separated and may not contain "..", empty or hidden parts, or backslashes',
    })
  }
  return path
}

/** True if `s` holds a C0 control character or DEL (a NUL, a newline…). */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

/** True if `path` is `root` or inside it (lexically; symlinks are not followed). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path))
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/** `root/rel` for a checked relative path; never leaves root. */
export function joinInside(root: string, rel: string, what: string): string {
  const path = resolve(root, checkRelPath(rel, what))
  if (!isInside(root, path)) {
    throw new MlvcError('UNSAFE_PATH', `${what}: "${rel}" leaves ${root}`)
  }
  return path
}

/** The relative path of `path` under `root`, with "/" separators. */
export function toPosixRel(root: string, path: string): string {
  return relative(root, path).split(sep).join('/')
}
