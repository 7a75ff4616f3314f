import { MlvcError } from '../core/index.ts'
import { lineWriter, type Publisher, readLines } from './lines.ts'

/**
 * One file of an entity version. The manifest is text, one line per file, sorted by path:
 *
 *     mlvc-manifest 1
 *     images/0001.png\tbafkr…\t48213\t644
 *
 * Why this form: a sorted, line-oriented file diffs in Git line by line (a version that changes
 * 1% of a million files is a 1% diff), it streams (never held whole: a million lines are about
 * 100 MB), and two versions compare by a merge walk. Tabs separate fields so that paths may hold
 * spaces; paths with tabs, newlines or control characters are refused at add.
 */
export interface ManifestEntry {
  /** Relative to the entity folder, "/"-separated, never escaping it (checkEntryPath). */
  path: string
  /** The file's content id in the store: its chunk, or its blob manifest (see content.ts). */
  id: string
  size: number
  /** 0o644 or 0o755 (only the executable bit is kept, as in Git). */
  mode: number
}

export const MANIFEST_HEADER = 'mlvc-manifest 1'

/**
 * A content id as the store writes them: CIDv1, base32, sha2-256, raw (a chunk) or JSON (a
 * manifest). A regular expression, not a decode: a manifest may hold a million of them.
 */
const ID = /^(?:bafkrei[a-z2-7]{52}|bagaaiera[a-z2-7]{52})$/

/** Paths sort in JavaScript string order everywhere (manifests, stat caches, folder walks). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Null when `path` is a safe relative path inside the entity folder, else what is wrong. */
export function pathProblem(path: string): string | null {
  if (path === '') return 'is empty'
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'holds a control character or a backslash'
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `has a "${part}" segment`
  }
  return null
}

export function checkEntryPath(path: string, where: string): void {
  const problem = pathProblem(path)
  if (problem)
    throw new MlvcError('UNSAFE_PATH', `${where}: path ${JSON.stringify(path)} ${problem}`, {
      hint: 'a manifest names files inside the entity folder only; restore it from Git',
    })
}

export function formatEntry(entry: ManifestEntry): string {
  return `${entry.path}\t${entry.id}\t${entry.size}\t${entry.mode.toString(8)}`
}

function badLine(file: string, line: number, what: string): MlvcError {
  return new MlvcError('BAD_SPEC', `${file}: line ${line} ${what}`, {
    path: file,
    detail: `line ${line} ${what}`,
    hint: 'a manifest is written by mlvc commit; restore it from Git: git checkout -- FILE',
  })
}

export function parseEntry(text: string, file: string, line: number): ManifestEntry {
  const fields = text.split('\t')
  if (fields.length !== 4)
    throw badLine(file, line, 'must be PATH, ID, SIZE and MODE separated by tabs')
  const [path, id, size, mode] = fields as [string, string, string, string]
  checkEntryPath(path, `${file}: line ${line}`)
  if (!ID.test(id)) throw badLine(file, line, `has ${JSON.stringify(id)} where a file id belongs`)
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size))
    throw badLine(file, line, `has a bad size ${JSON.stringify(size)}`)
  if (mode !== '644' && mode !== '755')
    throw badLine(file, line, `has mode ${JSON.stringify(mode)} (644 or 755)`)
  return { path, id, size: Number(size), mode: mode === '755' ? 0o755 : 0o644 }
}

/**
 * The entries of a manifest file, checked as they stream: the header, every line, and strictly
 * increasing paths (no duplicates). Nothing when the file is absent and `missingOk`.
 */
export function* readManifestFile(file: string, missingOk = false): Generator<ManifestEntry> {
  let line = 0
  let previous: string | undefined
  for (const text of readLines(file, missingOk)) {
    line++
    if (line === 1) {
      if (text !== MANIFEST_HEADER) throw badLine(file, 1, `must be "${MANIFEST_HEADER}"`)
      continue
    }
    if (text === '') continue
    const entry = parseEntry(text, file, line)
    if (previous !== undefined && comparePaths(previous, entry.path) >= 0)
      throw badLine(file, line, `is out of order or repeats ${JSON.stringify(entry.path)}`)
    previous = entry.path
    yield entry
  }
}

/** Writes a manifest from entries in path order, atomically; a disorder is a bug (INTERNAL). */
export interface ManifestWriter extends Publisher {
  write(entry: ManifestEntry): void
  count: number
  bytes: number
}

export function manifestWriter(file: string): ManifestWriter {
  const out = lineWriter(file)
  out.write(MANIFEST_HEADER)
  let previous: string | undefined
  const writer: ManifestWriter = {
    count: 0,
    bytes: 0,
    write(entry: ManifestEntry) {
      if (previous !== undefined && comparePaths(previous, entry.path) >= 0)
        throw new MlvcError('INTERNAL', `manifest ${file}: ${entry.path} written out of order`)
      previous = entry.path
      writer.count++
      writer.bytes += entry.size
      out.write(formatEntry(entry))
    },
    finish: () => out.finish(),
    abort: () => out.abort(),
  }
  return writer
}

/** Writes all entries (in path order) to a manifest file, atomically. */
export function writeManifestFile(
  file: string,
  entries: Iterable<ManifestEntry>,
): { count: number; bytes: number } {
  const out = manifestWriter(file)
  try {
    for (const entry of entries) out.write(entry)
    out.finish()
  } catch (err) {
    out.abort()
    throw err
  }
  return { count: out.count, bytes: out.bytes }
}
