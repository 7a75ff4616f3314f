import type { ProgressOptions } from '../core/index.ts'
import { isDType } from '../formats/index.ts'
import {
  type DiffStats,
  diffTensors,
  formatStats,
  statsToJSON,
  type TensorStatsJSON,
  tensorStats,
} from '../tensors/index.ts'
import { boundsFromStats, type StatsBounds } from './diff-bounds.ts'
import type { CheckpointVersion, KnownStats, VersionTensor } from './version.ts'

/**
 * - `unknown`: same name, dtype and shape, but nothing local tells whether the bytes differ (a
 *   file not stored yet against a version whose data is elsewhere, with equal statistics).
 */
export type TensorStatus = 'added' | 'removed' | 'changed' | 'unchanged' | 'unknown'

/**
 * How a status was decided: content ids (exact, no data read), the data (exact figures), the
 * statistics (a difference in them proves a change; figures are bounds), or the headers alone.
 */
export type DiffBasis = 'content' | 'data' | 'stats' | 'layout'

export interface TensorSide {
  dtype: string
  shape: number[]
  stats: TensorStatsJSON | null
  /** True when the statistics are a stub's rounded figures. */
  rounded: boolean
}

/** Exact figures from both versions' data (see src/tensors DiffStats). */
export type ExactFigures = Omit<DiffStats, 'deltaBytes' | 'fullBytes'>

export interface TensorDiff {
  name: string
  status: TensorStatus
  old?: TensorSide
  new?: TensorSide
  dtypeChanged: boolean
  shapeChanged: boolean
  basis: DiffBasis
  exact?: ExactFigures
  bounds?: StatsBounds
  /**
   * How the new version's bytes are stored when the store was read (`low-rank, rank 16`,
   * `sparse delta`, `3 chunks`: storage.ts); only for changed tensors.
   */
  storage?: string
}

export interface DiffSummary {
  /** Tensors in either version. */
  tensors: number
  added: number
  removed: number
  changed: number
  unchanged: number
  unknown: number
  /** Elements of the new version. */
  parameters: number
  /**
   * Elements that differ: counted in the data where it was compared; for a changed or unknown
   * tensor without data, all its elements (then `parametersExact` is false: an upper bound); every
   * element of an added tensor or one whose dtype or shape changed.
   */
  parametersChanged: number
  parametersExact: boolean
}

export interface CheckpointDiff {
  tensors: TensorDiff[]
  summary: DiffSummary
}

export interface DiffOptions extends ProgressOptions {
  /** Read tensor data where it is local (for exact figures). @default true */
  data?: boolean
}

const elementsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i])

function side(t: VersionTensor): TensorSide {
  return {
    dtype: t.dtype,
    shape: t.shape,
    stats: t.stats ? statsToJSON(t.stats.value) : null,
    rounded: t.stats?.rounded ?? false,
  }
}

function exactOf(stats: DiffStats): ExactFigures {
  const { deltaBytes: _d, fullBytes: _f, ...figures } = stats
  return figures
}

/** Exact figures from the data; for quantized blocks only whether the bytes differ. */
async function compareData(
  a: VersionTensor,
  b: VersionTensor,
  read: { a: () => AsyncIterable<Uint8Array>; b: () => AsyncIterable<Uint8Array> },
  options: DiffOptions,
): Promise<Pick<TensorDiff, 'status' | 'exact'>> {
  const names = [`${a.name} (old)`, `${b.name} (new)`] as const
  if (!isDType(b.dtype)) {
    const bytes = await diffTensors(read.a(), read.b(), {
      dtype: 'U8',
      elements: b.bytes ?? 0,
      names,
      signal: options.signal,
    })
    return { status: bytes.changed > 0 ? 'changed' : 'unchanged' }
  }
  const stats = await diffTensors(read.a(), read.b(), {
    dtype: b.dtype,
    elements: elementsOf(b.shape),
    names,
    signal: options.signal,
  })
  return { status: stats.changed > 0 ? 'changed' : 'unchanged', exact: exactOf(stats) }
}

async function statsOf(t: VersionTensor, options: DiffOptions): Promise<KnownStats | undefined> {
  if (t.stats || !t.read || !isDType(t.dtype)) return t.stats
  t.stats = {
    value: await tensorStats(t.dtype, t.read(), { signal: options.signal }),
    rounded: false,
  }
  return t.stats
}

/** Statistics that print differently prove different bytes (they are a function of the bytes). */
function statsDiffer(a: KnownStats, b: KnownStats): boolean {
  return formatStats(a.value) !== formatStats(b.value)
}

/** A tensor in both versions with the same dtype and shape. */
async function comparePair(
  a: VersionTensor,
  b: VersionTensor,
  options: DiffOptions,
): Promise<Omit<TensorDiff, 'name' | 'old' | 'new' | 'dtypeChanged' | 'shapeChanged'>> {
  const contentKnown = a.content !== undefined && b.content !== undefined
  if (contentKnown && a.content === b.content) return { status: 'unchanged', basis: 'content' }
  // No elements, no bytes (and no content id: such a tensor has no bytes in the file).
  if (elementsOf(b.shape) === 0) return { status: 'unchanged', basis: 'layout' }
  const data = options.data !== false
  if (data && a.read && b.read) {
    return { ...(await compareData(a, b, { a: a.read, b: b.read }, options)), basis: 'data' }
  }
  const sa = data ? await statsOf(a, options) : a.stats
  const sb = data ? await statsOf(b, options) : b.stats
  const bounds = sa && sb ? boundsFromStats(sa, sb) : undefined
  const withBounds = bounds ? { bounds } : {}
  if (contentKnown) return { status: 'changed', basis: 'content', ...withBounds }
  if (sa && sb && statsDiffer(sa, sb)) return { status: 'changed', basis: 'stats', ...withBounds }
  return { status: 'unknown', basis: sa && sb ? 'stats' : 'layout' }
}

async function diffTensor(
  a: VersionTensor | undefined,
  b: VersionTensor | undefined,
  options: DiffOptions,
): Promise<TensorDiff> {
  const name = (b ?? a)?.name ?? ''
  if (!a || !b) {
    const present = (a ?? b) as VersionTensor
    return {
      name,
      status: a ? 'removed' : 'added',
      ...(a ? { old: side(present) } : { new: side(present) }),
      dtypeChanged: false,
      shapeChanged: false,
      basis: 'layout',
    }
  }
  const dtypeChanged = a.dtype !== b.dtype
  const shapeChanged = !sameShape(a.shape, b.shape)
  const result =
    dtypeChanged || shapeChanged
      ? { status: 'changed' as const, basis: 'layout' as const }
      : await comparePair(a, b, options)
  return { name, ...result, old: side(a), new: side(b), dtypeChanged, shapeChanged }
}

function summarize(diffs: readonly TensorDiff[], b: CheckpointVersion | undefined): DiffSummary {
  const summary: DiffSummary = {
    tensors: diffs.length,
    added: 0,
    removed: 0,
    changed: 0,
    unchanged: 0,
    unknown: 0,
    parameters: (b?.tensors ?? []).reduce((sum, t) => sum + elementsOf(t.shape), 0),
    parametersChanged: 0,
    parametersExact: true,
  }
  for (const d of diffs) {
    summary[d.status]++
    const elements = d.new ? elementsOf(d.new.shape) : 0
    if (d.status === 'added' || d.dtypeChanged || d.shapeChanged) {
      summary.parametersChanged += elements
    } else if (d.status === 'changed' || d.status === 'unknown') {
      summary.parametersChanged += d.exact ? d.exact.changed : elements
      if (!d.exact) summary.parametersExact = false
    }
  }
  return summary
}

/**
 * Compares two versions of a checkpoint tensor by tensor, matching tensors by name (so a tensor
 * that moved, or moved to another shard, is the same tensor). Equal content ids answer without the
 * data; tensors whose data is local on both sides are compared streaming, one at a time (exact
 * figures); otherwise the statistics give bounds. New-version order, removed tensors last.
 */
export async function diffCheckpoints(
  a: CheckpointVersion | undefined,
  b: CheckpointVersion | undefined,
  options: DiffOptions = {},
): Promise<CheckpointDiff> {
  const before = new Map((a?.tensors ?? []).map((t) => [t.name, t]))
  const after = new Map((b?.tensors ?? []).map((t) => [t.name, t]))
  const names = [...after.keys(), ...[...before.keys()].filter((n) => !after.has(n))]
  const tensors: TensorDiff[] = []
  for (const [i, name] of names.entries()) {
    tensors.push(await diffTensor(before.get(name), after.get(name), options))
    options.onProgress?.({ type: 'objects', phase: 'diff', done: i + 1, total: names.length })
  }
  return { tensors, summary: summarize(tensors, b) }
}
