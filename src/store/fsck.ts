import { readFile } from 'node:fs/promises'
import { fsError, type ProgressOptions, pushAll } from '../core/index.ts'
import { formatId, parseId, sha256Digest } from './cid.ts'
import { isComplete } from './closure.ts'
import { decodeIdx, type IdxEntry } from './idx.ts'
import { idxFilePath, listPackFiles, packFilePath } from './layout.ts'
import { decodeManifest, manifestReferences } from './manifest.ts'
import { RECORD_HEADER } from './pack-format.ts'
import { listPins } from './pins.ts'
import type { Store } from './store.ts'

export interface FsckIssue {
  severity: 'error' | 'warning'
  /** What is wrong and where. */
  message: string
}

export interface FsckReport {
  packs: number
  objects: number
  bytes: number
  manifests: number
  issues: FsckIssue[]
}

export interface FsckOptions extends ProgressOptions {
  /** More ids that must be present with everything they reference (Git stubs, …). */
  roots?: Iterable<{ id: string; from: string }>
}

function checkRecord(header: Buffer, entry: IdxEntry): string | undefined {
  if (!header.subarray(0, 32).equals(entry.digest)) return 'record header names another object'
  if (header.readUInt32LE(33) !== entry.length) return 'record length differs from the index'
  if (!sha256Digest(header.subarray(RECORD_HEADER)).equals(entry.digest))
    return 'bytes do not match their id'
  return undefined
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
    report.issues.push({
      severity: 'error',
      message: (fsError(err, 'reading', idxPath) as Error).message,
    })
    return []
  }
  const packPath = packFilePath(store.layout, name)
  const number = store.packs.findIndex((p) => p.name === name)
  const manifests: string[] = []
  const sorted = [...entries].sort((a, b) => a.offset - b.offset)
  for (const entry of sorted) {
    const id = formatId(entry.kind, entry.digest)
    const record = Buffer.allocUnsafe(RECORD_HEADER + entry.length)
    let problem: string | undefined
    try {
      store.readPack(number, entry.offset - RECORD_HEADER, record)
      problem = checkRecord(record, entry)
    } catch (err) {
      problem = (err as Error).message
    }
    if (problem)
      report.issues.push({ severity: 'error', message: `${packPath}: object ${id}: ${problem}` })
    else if (entry.kind === 'manifest') manifests.push(id)
    report.objects++
    report.bytes += entry.length
    options.onProgress?.({ type: 'verify', done: report.bytes, total: 0 })
  }
  return manifests
}

/** How many objects the manifest references that the store lacks. */
async function missingReferences(
  store: Store,
  id: string,
): Promise<{ missing: number; total: number }> {
  const refs = manifestReferences(decodeManifest(await store.readObject(id), id))
  return {
    missing: refs.filter((ref) => !store.lookup(parseId(ref).digest)).length,
    total: refs.length,
  }
}

async function checkManifest(store: Store, id: string, report: FsckReport): Promise<void> {
  try {
    const { missing, total } = await missingReferences(store, id)
    if (missing > 0) {
      // An interrupted fetch leaves exactly this; files that need the content are roots, checked below.
      report.issues.push({
        severity: 'warning',
        message: `manifest ${id} lacks ${missing} of its ${total} chunks (an interrupted fetch; mlvc pull completes it)`,
      })
    }
    report.manifests++
  } catch (err) {
    report.issues.push({ severity: 'error', message: (err as Error).message })
  }
}

/**
 * Checks the whole store: index checksums, every object's bytes against its id, every manifest's
 * references, every pin and given root. Packs without an index are warnings (an interrupted or
 * running write), not errors: nothing refers to them.
 */
export async function fsckStore(store: Store, options: FsckOptions = {}): Promise<FsckReport> {
  await store.refresh()
  const report: FsckReport = { packs: 0, objects: 0, bytes: 0, manifests: 0, issues: [] }
  const files = await listPackFiles(store.layout)
  for (const name of files.unindexed) {
    report.issues.push({
      severity: 'warning',
      message: `pack ${name} has no index: being written, or left by an interrupted write (mlvc gc removes it after an hour)`,
    })
  }
  const manifests: string[] = []
  for (const name of files.indexed) {
    report.packs++
    pushAll(manifests, await checkPack(store, name, report, options))
  }
  for (const id of new Set(manifests)) await checkManifest(store, id, report)
  const roots = [...(options.roots ?? [])]
  for (const id of await listPins(store)) roots.push({ id, from: 'pin' })
  for (const root of roots) {
    try {
      parseId(root.id)
    } catch (err) {
      report.issues.push({ severity: 'error', message: `${root.from}: ${(err as Error).message}` })
      continue
    }
    if (!(await isComplete(store, root.id).catch(() => false))) {
      report.issues.push({
        severity: 'error',
        message: `${root.from}: object ${root.id} is missing from the local store (mlvc pull fetches it)`,
      })
    }
  }
  return report
}
