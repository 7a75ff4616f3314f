import { stat } from 'node:fs/promises'
import {
  addedBytes,
  type CheckpointVersion,
  checkpointsStorage,
  combineVersions,
  type DiffSummary,
  describeStorage,
  diffCheckpoints,
  newTensorBytes,
  openVersion,
  parseStubTensors,
  storageOf,
  type TensorDiff,
} from '../checkpoint/index.ts'
import { isMlvcError, type ProgressOptions } from '../core/index.ts'
import type { Store } from '../store/index.ts'
import type { FileVersion } from './diff-sides.ts'
import type { DiffUnit } from './diff-units.ts'

/** What `mlvc diff` and git's diff driver report for one path. */
export interface FileReport {
  path: string
  kind: 'checkpoint' | 'sharded' | 'file'
  status: 'added' | 'removed' | 'modified'
  format: string | null
  size: { old: number | null; new: number | null }
  /** Shard files on each side of a sharded checkpoint. */
  shards?: { old: string[]; new: string[] }
  /** Every tensor of either version, unchanged ones included. */
  tensors?: TensorDiff[]
  summary?: DiffSummary
  /**
   * Bytes of objects the new version needs and the old one does not, counted in the store; null
   * when the store does not hold both (or with --no-data, which leaves the store alone).
   */
  storedBytes: number | null
  /**
   * From the stubs: bytes of the new version's tensors whose content the old one lacks (of the
   * whole file, for other files) — before deltas and deduplication; null when not known.
   */
  storedBytesEstimate: number | null
  /**
   * Why the tensors could not be compared: a version's tensor table is stored on its own (too
   * long for its stub) and is not in the local store.
   */
  unavailable?: string
}

export interface ReportOptions extends ProgressOptions {
  /** Undefined with --no-data: answers come from the stubs alone. */
  store: Store | undefined
  data: boolean
  /** With --no-data: the store, when there is one, for tensor tables too long for their stubs. */
  tables?: Store | undefined
}

async function sizeOf(v: FileVersion): Promise<number | null> {
  if (v.stub) return v.stub.size
  return v.file ? (await stat(v.file)).size : null
}

async function totalSize(side: readonly FileVersion[]): Promise<number | null> {
  if (side.length === 0) return null
  let total = 0
  for (const v of side) {
    const size = await sizeOf(v)
    if (size === null) return null
    total += size
  }
  return total
}

async function openSide(
  side: readonly FileVersion[],
  options: ReportOptions,
): Promise<Array<CheckpointVersion | undefined>> {
  const out: Array<CheckpointVersion | undefined> = []
  try {
    for (const v of side) {
      const source = { id: v.stub?.id, stubLines: v.stub?.extra ?? [], file: v.file, path: v.path }
      const { store, data, tables } = options
      out.push(await openVersion(source, { store, data, tables }))
    }
  } catch (err) {
    for (const v of out) await v?.close()
    throw err
  }
  return out
}

/** A stub naming a tensor table stored on its own (see checkpointStubLines). */
export const namesTable = (v: FileVersion) =>
  v.stub?.extra?.some((line) => line.startsWith('table: ')) === true

/** The report of a unit whose tensor table is not here: what the stubs say, and why no more. */
async function unavailableReport(unit: DiffUnit, options: ReportOptions, why: string) {
  const format = parseStubTensors(unit.new[0]?.stub?.extra ?? unit.old[0]?.stub?.extra ?? [])
  return {
    path: unit.path,
    status: statusOf(unit),
    size: { old: await totalSize(unit.old), new: await totalSize(unit.new) },
    storedBytes: await storedBytes(unit, options),
    kind: unit.sharded ? ('sharded' as const) : ('checkpoint' as const),
    format: format.format ?? null,
    storedBytesEstimate: null,
    unavailable: why,
  }
}

/** The ids of a side's files, when every one of them is stored. */
function idsOf(side: readonly FileVersion[]): string[] | undefined {
  const ids = side.map((v) => v.stub?.id)
  return ids.every((id) => id !== undefined) ? ids : undefined
}

async function storedBytes(unit: DiffUnit, options: ReportOptions): Promise<number | null> {
  const after = idsOf(unit.new)
  const before = idsOf(unit.old)
  if (!options.store || !after || !before || after.length === 0) return null
  return (await addedBytes(options.store, after, before)) ?? null
}

function statusOf(unit: DiffUnit): FileReport['status'] {
  return unit.old.length === 0 ? 'added' : unit.new.length === 0 ? 'removed' : 'modified'
}

/** Compares the two sides of a unit: tensor by tensor for checkpoints, by size otherwise. */
/** Says how each changed tensor's new bytes are stored (a low-rank delta, a sparse one, chunks). */
async function nameStorage(
  store: Store,
  tensors: TensorDiff[],
  b: CheckpointVersion,
  unit: DiffUnit,
) {
  const ids = unit.new.flatMap((v) => (v.stub ? [v.stub.id] : []))
  if (ids.length === 0 || !tensors.some((d) => d.status === 'changed')) return
  const storage = await checkpointsStorage(store, ids)
  const byName = new Map(b.tensors.map((t) => [t.name, t]))
  for (const d of tensors) {
    const t = d.status === 'changed' ? byName.get(d.name) : undefined
    const how = t ? storageOf(storage, t.content, t.bytes ?? null) : undefined
    if (how) d.storage = describeStorage(how)
  }
}

export async function reportUnit(unit: DiffUnit, options: ReportOptions): Promise<FileReport> {
  let olds: Array<CheckpointVersion | undefined> | undefined
  let news: Array<CheckpointVersion | undefined>
  try {
    olds = await openSide(unit.old, options)
    news = await openSide(unit.new, options)
  } catch (err) {
    for (const v of olds ?? []) await v?.close()
    const tables = [...unit.old, ...unit.new].some(namesTable)
    if (!tables || !isMlvcError(err, 'MISSING_OBJECT')) throw err
    return unavailableReport(unit, options, err.message)
  }
  const all = [...olds, ...news]
  try {
    const base = {
      path: unit.path,
      status: statusOf(unit),
      size: { old: await totalSize(unit.old), new: await totalSize(unit.new) },
      storedBytes: await storedBytes(unit, options),
    }
    if (all.length === 0 || all.some((v) => v === undefined)) {
      const estimate = unit.new.length > 0 ? base.size.new : 0
      return { ...base, kind: 'file', format: null, storedBytesEstimate: estimate }
    }
    const versions = all as CheckpointVersion[]
    const format = versions[versions.length - 1]?.format ?? null
    const combine = (side: Array<CheckpointVersion | undefined>) =>
      side.length === 0
        ? undefined
        : unit.sharded
          ? combineVersions(side as CheckpointVersion[], format ?? 'safetensors')
          : (side[0] as CheckpointVersion)
    const a = combine(olds)
    const b = combine(news)
    const diff = await diffCheckpoints(a, b, options)
    if (options.store && b) await nameStorage(options.store, diff.tensors, b, unit)
    return {
      ...base,
      kind: unit.sharded ? 'sharded' : 'checkpoint',
      format,
      ...(unit.sharded
        ? { shards: { old: unit.old.map((v) => v.path), new: unit.new.map((v) => v.path) } }
        : {}),
      tensors: diff.tensors,
      summary: diff.summary,
      storedBytesEstimate: b ? (newTensorBytes(a, b) ?? null) : 0,
    }
  } finally {
    for (const v of all) await v?.close()
  }
}
