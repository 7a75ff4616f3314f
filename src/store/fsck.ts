import { fstatSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fsError, isMlvcError, type ProgressOptions } from '../core/index.ts'
import { findDamaged } from './check.ts'
import { formatId, parseId } from './cid.ts'
import { closure } from './closure.ts'
import { checkEncodedSize } from './encoding.ts'
import { decodeIdx, type IdxEntry } from './idx.ts'
import { idxFilePath, listPackFiles } from './layout.ts'
import { decodeManifest, manifestReferences } from './manifest.ts'
import {
  PACK_MAGIC,
  type PackVersion,
  packVersion,
  parseRecordHeader,
  recordHeaderSize,
} from './pack-format.ts'
import { listPins } from './pins.ts'
import type { Store } from './store.ts'
import type { Location } from './table.ts'

/**
 * One problem fsck found, by kind:
 *  - corrupt: an object's stored bytes do not match its id (or cannot be read);
 *  - bad-index: a pack's index cannot be read or fails its checksum;
 *  - missing: an object a root needs is not in the store;
 *  - bad-root: a root that is not a valid id;
 *  - incomplete: a manifest whose chunks are not all here (an interrupted fetch; a warning);
 *  - unindexed-pack: a pack without an index (being written, or left by an interrupted write).
 * Layers above add their own kinds (Git's raw commits and unusable stubs).
 */
export type FsckIssue =
  | {
      kind: 'corrupt'
      severity: 'error'
      id: string
      pack: string
      offset: number
      /** Roots whose content needs the object. */
      usedBy: string[]
      message: string
    }
  | { kind: 'bad-index'; severity: 'error'; pack: string; message: string }
  | { kind: 'missing'; severity: 'error'; id: string; usedBy: string[]; message: string }
  | { kind: 'bad-root'; severity: 'error'; id: string; usedBy: string[]; message: string }
  | { kind: 'incomplete'; severity: 'warning'; id: string; message: string }
  | { kind: 'unindexed-pack'; severity: 'warning'; pack: string; message: string }

export type CorruptIssue = Extract<FsckIssue, { kind: 'corrupt' }>

export interface FsckReport {
  packs: number
  objects: number
  /** Bytes the objects take in packs (encoded). */
  bytes: number
  /** Bytes of the objects once decoded: `bytes` over this is what encodings saved. */
  size: number
  manifests: number
  issues: FsckIssue[]
}

export interface FsckOptions extends ProgressOptions {
  /**
   * More ids that must be present with everything they reference (Git stubs, …), and what needs
   * each (for messages). An id given more than once is checked and reported once.
   */
  roots?: Iterable<{ id: string; from: string }>
}

/** What is wrong with a record's header against its index entry, if anything. */
function checkHeader(
  header: Buffer,
  version: PackVersion,
  entry: IdxEntry,
  where: string,
): string | undefined {
  try {
    const record = parseRecordHeader(header, 0, version, where)
    if (!Buffer.from(record.digest).equals(entry.digest))
      return 'its record header names another object'
    if (record.length !== entry.length) return 'its record length differs from the index'
    if (record.codec !== entry.codec || record.size !== entry.size)
      return 'its record encoding differs from the index'
    if (record.kind !== entry.kind) return 'its record kind differs from the index'
    checkEncodedSize(entry.codec, entry.length, entry.size)
  } catch (err) {
    if (!isMlvcError(err, 'CORRUPT')) throw err
    return err.message
  }
  return undefined
}

/** The format of pack `number`, from its first bytes (format 2 when they are garbled). */
function versionOf(store: Store, number: number): PackVersion {
  const head = Buffer.alloc(PACK_MAGIC.length)
  try {
    store.readPack(number, 0, head)
  } catch (err) {
    if (!isMlvcError(err, 'CORRUPT')) throw err
  }
  return packVersion(head) ?? 2
}

/** Verifies every indexed object of a pack against its id; returns the manifests it holds. */
async function checkPack(
  store: Store,
  name: string,
  report: FsckReport,
  options: FsckOptions,
): Promise<string[]> {
  const idxPath = idxFilePath(store.layout, name)
  let entries: IdxEntry[]
  try {
    entries = decodeIdx(await readFile(idxPath), idxPath, true)
  } catch (err) {
    const { message } = fsError(err, 'reading', idxPath)
    report.issues.push({ kind: 'bad-index', severity: 'error', pack: name, message })
    return []
  }
  const number = store.packs.findIndex((p) => p.name === name)
  const version = versionOf(store, number)
  const headerSize = recordHeaderSize(version)
  const sorted = [...entries].sort((a, b) => a.offset - b.offset)
  const problems = new Map<IdxEntry, string>()
  const sound: IdxEntry[] = []
  const fd = store.packFd(number)
  const packSize = fstatSync(fd).size
  for (const entry of sorted) {
    const header = Buffer.allocUnsafe(headerSize)
    let problem: string | undefined
    try {
      store.readPack(number, entry.offset - headerSize, header)
      problem = checkHeader(header, version, entry, name)
    } catch (err) {
      if (!isMlvcError(err, 'CORRUPT')) throw err
      problem = err.message
    }
    const end = entry.offset + entry.length
    if (!problem && end > packSize)
      problem = `pack ${name} is truncated: it has ${packSize} bytes, bytes ${entry.offset} to ${end} were wanted`
    if (problem) problems.set(entry, problem)
    else sound.push(entry)
  }
  for (const [i, why] of await findDamaged(sound.map((entry) => ({ ...entry, fd })))) {
    const entry = sound[i]
    if (entry) problems.set(entry, why)
  }
  const manifests: string[] = []
  for (const entry of sorted) {
    const id = formatId(entry.kind, entry.digest)
    const problem = problems.get(entry)
    if (problem) {
      const location: Location = { ...entry, pack: number }
      const { message } = store.damaged(id, location, problem)
      report.issues.push({
        kind: 'corrupt',
        severity: 'error',
        id,
        pack: name,
        offset: entry.offset,
        usedBy: [],
        message,
      })
    } else if (entry.kind === 'manifest') manifests.push(id)
    report.objects++
    report.bytes += entry.length
    report.size += entry.size
    options.onProgress?.({ type: 'verify', done: report.bytes, total: 0 })
  }
  return manifests
}

/** Warns about a manifest whose chunks are not all in the store. */
async function checkManifest(store: Store, id: string, report: FsckReport): Promise<void> {
  let data: Buffer
  try {
    data = await store.readObject(id)
  } catch (err) {
    // A good copy in one pack, a damaged one (reported already) in another that reads first.
    if (isMlvcError(err, 'CORRUPT')) return
    throw err
  }
  const refs = manifestReferences(decodeManifest(data, id))
  const missing = refs.filter((ref) => !store.lookup(parseId(ref).digest)).length
  if (missing > 0) {
    // An interrupted fetch leaves exactly this; files that need the content are roots, checked below.
    report.issues.push({
      kind: 'incomplete',
      severity: 'warning',
      id,
      message: `manifest ${id} lacks ${missing} of its ${refs.length} chunks (an interrupted fetch; mlvc pull completes it)`,
    })
  }
  report.manifests++
}

/** The roots by id, each with everything that needs it. */
function groupRoots(roots: Iterable<{ id: string; from: string }>): Map<string, string[]> {
  const byId = new Map<string, string[]>()
  for (const { id, from } of roots) {
    const users = byId.get(id) ?? []
    if (!users.includes(from)) users.push(from)
    byId.set(id, users)
  }
  return byId
}

/**
 * Checks that each root is present with everything it references; a root that needs a corrupt
 * object is listed on that object's issue instead of an issue of its own.
 */
async function checkRoots(
  store: Store,
  roots: Map<string, string[]>,
  report: FsckReport,
): Promise<void> {
  const corrupt = new Map<string, CorruptIssue>()
  for (const issue of report.issues) if (issue.kind === 'corrupt') corrupt.set(issue.id, issue)
  for (const [id, usedBy] of roots) {
    const users = usedBy.join(', ')
    try {
      parseId(id)
    } catch (err) {
      const message = `${users}: ${err instanceof Error ? err.message : String(err)}`
      report.issues.push({ kind: 'bad-root', severity: 'error', id, usedBy, message })
      continue
    }
    const reach = await closure(store, [id], { tolerateDamage: true })
    let damaged = false
    for (const ref of reach.objects.values()) {
      const issue = corrupt.get(ref.id)
      if (!issue) continue
      damaged = true
      for (const user of usedBy) if (!issue.usedBy.includes(user)) issue.usedBy.push(user)
    }
    if (reach.missing.length > 0 && !damaged) {
      const what = reach.missing.some((ref) => ref.id === id)
        ? `object ${id} is missing from the local store (mlvc pull fetches it)`
        : `${reach.missing.length} of the objects that ${id} needs are missing from the local store (mlvc pull fetches them)`
      report.issues.push({
        kind: 'missing',
        severity: 'error',
        id,
        usedBy,
        message: `${users}: ${what}`,
      })
    }
  }
}

/**
 * Checks the whole store: index checksums, every object's bytes against its id, every manifest's
 * references, every pin and given root. Packs without an index are warnings (an interrupted or
 * running write), not errors: nothing refers to them. Every problem is reported once, and every
 * damaged object is recorded for repair (see damage.ts).
 */
export async function fsckStore(store: Store, options: FsckOptions = {}): Promise<FsckReport> {
  await store.refresh()
  const report: FsckReport = {
    packs: 0,
    objects: 0,
    bytes: 0,
    size: 0,
    manifests: 0,
    issues: [],
  }
  const files = await listPackFiles(store.layout)
  for (const name of files.unindexed) {
    report.issues.push({
      kind: 'unindexed-pack',
      severity: 'warning',
      pack: name,
      message: `pack ${name} has no index: being written, or left by an interrupted write (mlvc gc removes it after an hour)`,
    })
  }
  const manifests = new Set<string>()
  for (const name of files.indexed) {
    report.packs++
    for (const id of await checkPack(store, name, report, options)) manifests.add(id)
  }
  for (const id of manifests) await checkManifest(store, id, report)
  const roots = [...(options.roots ?? [])]
  for (const id of await listPins(store)) roots.push({ id, from: 'pin' })
  await checkRoots(store, groupRoots(roots), report)
  return report
}
