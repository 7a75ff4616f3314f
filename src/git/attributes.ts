import { join } from 'node:path'
import { readTextIfExists, writeFileAtomic } from '../core/index.ts'

/** The attributes `mlvc track` gives a pattern. */
export const TRACK_ATTRIBUTES = 'filter=mlvc diff=mlvc merge=mlvc -text'

/** gitattributes patterns cannot contain plain spaces; git-lfs escapes them the same way. */
export function escapePattern(pattern: string): string {
  return pattern.replace(/ /g, '[[:space:]]').replace(/^#/, '\\#')
}

function unescapePattern(pattern: string): string {
  return pattern.replace(/\[\[:space:\]\]/g, ' ').replace(/^\\#/, '#')
}

async function readLines(path: string): Promise<string[]> {
  const text = (await readTextIfExists(path)) ?? ''
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n')
}

/** A line's pattern, as written (escaped): its first field. */
function patternOf(line: string): string {
  return line.split(/\s+/, 1)[0] ?? ''
}

function isMlvcLine(line: string): boolean {
  return /\sfilter=mlvc(\s|$)/.test(line)
}

/** Patterns in the work tree's top-level .gitattributes that use the mlvc filter. */
export async function trackedPatterns(workTree: string): Promise<string[]> {
  const lines = await readLines(join(workTree, '.gitattributes'))
  return lines.filter(isMlvcLine).map((line) => unescapePattern(patternOf(line)))
}

/** Adds patterns (once each); returns the ones that were new. */
export async function trackPatterns(
  workTree: string,
  patterns: readonly string[],
): Promise<string[]> {
  const path = join(workTree, '.gitattributes')
  const lines = await readLines(path)
  const existing = new Set(lines.filter(isMlvcLine).map(patternOf))
  const added = patterns.filter((p) => !existing.has(escapePattern(p)))
  if (added.length === 0) return []
  const next = [...lines, ...added.map((p) => `${escapePattern(p)} ${TRACK_ATTRIBUTES}`)]
  await writeFileAtomic(path, `${next.join('\n')}\n`, { fsync: false })
  return added
}

/** Removes the mlvc lines for the patterns; returns the ones that were tracked. */
export async function untrackPatterns(
  workTree: string,
  patterns: readonly string[],
): Promise<string[]> {
  const path = join(workTree, '.gitattributes')
  const lines = await readLines(path)
  const wanted = new Set(patterns.map(escapePattern))
  const removed = lines.filter((l) => isMlvcLine(l) && wanted.has(patternOf(l)))
  if (removed.length === 0) return []
  const kept = lines.filter((l) => !removed.includes(l))
  await writeFileAtomic(path, kept.length > 0 ? `${kept.join('\n')}\n` : '', { fsync: false })
  return removed.map((l) => unescapePattern(patternOf(l)))
}
