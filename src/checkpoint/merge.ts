import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError, uniqueName } from '../core/index.ts'
import {
  type DType,
  dtypeSize,
  readLayout,
  readTensorFrom,
  type TensorBytes,
  writeWithTensors,
} from '../formats/index.ts'
import {
  type FileManifest,
  materialize,
  offerReady,
  readManifest,
  type Store,
} from '../store/index.ts'
import {
  type MergeBlocks,
  type MergeStrategy,
  mergeTensor,
  type TensorStatsJSON,
} from '../tensors/index.ts'
import { type BlockWriter, createBlockWriter } from './block-writer.ts'
import { tensorDeltas } from './deltas.ts'
import { placedParts } from './file-parts.ts'
import { INLINE_BELOW, ingestCheckpoint } from './ingest.ts'
import { type ConflictReason, planMerge, type Side, type TensorDecision } from './merge-plan.ts'
import { type CheckpointMeta, readCheckpointMeta, type TensorRecord } from './meta.ts'
import { openStoredFile, type StoredFile } from './stored-source.ts'
import { type StrategySpec, strategyOf } from './strategy.ts'

export interface MergeInput {
  /** File ids (manifests) of the three versions. */
  base: string
  ours: string
  theirs: string
  /** The file's path, for messages. */
  path: string
  /** The strategy for a tensor changed differently on both sides. */
  choose: (tensor: string) => StrategySpec
  signal?: AbortSignal | undefined
  /** Bytes of each side merged at a time. @default 4 MiB */
  blockBytes?: number
}

/** Why a tensor, or the whole file, cannot be merged. */
export interface MergeConflict {
  /** The tensor; undefined when the conflict is the whole file's. */
  tensor: string | undefined
  reason: ConflictReason
  message: string
}

export interface MergeOutcome {
  decisions: TensorDecision[]
  /** Non-empty: nothing was written; the caller reports these and leaves ours. */
  conflicts: MergeConflict[]
  result?: { id: string; size: number; sha256: string; meta: CheckpointMeta }
  /**
   * ONNX external data files (relative to the model's folder) that tensors of the versions live
   * in. Such a model is not merged: those bytes are other files, which git merges on their own, so
   * the model and its data stay consistent only when one side of all of them is taken.
   */
  external?: string[]
}

interface Version {
  id: string
  manifest: FileManifest
  meta: CheckpointMeta
  tensors: Map<string, TensorRecord>
}

async function loadVersion(
  store: Store,
  id: string,
  label: string,
  path: string,
): Promise<Version> {
  const manifest = await readManifest(store, id)
  const meta = await readCheckpointMeta(store, manifest)
  if (!meta || manifest.type !== 'file') {
    throw new MlvcError(
      'USAGE',
      `${path}: ${label} is not a checkpoint mlvc could read tensor by tensor`,
    )
  }
  return { id, manifest, meta, tensors: new Map(meta.tensors.map((t) => [t.name, t])) }
}

/** The ONNX external data files any version keeps tensors in, each once, sorted. */
function externalFiles(versions: Record<Side, Version>): string[] {
  const files = new Set<string>()
  for (const v of Object.values(versions))
    for (const t of v.meta.tensors) if (t.file !== undefined) files.add(t.file)
  return [...files].sort()
}

const signature = (tensors: Iterable<TensorRecord>) =>
  [...tensors]
    .map((t) => `${t.name}|${t.dtype}|${t.shape.join(',')}`)
    .sort()
    .join('\n')

/**
 * The ranges [start, end) of a file that a part or delta holds by reference, as `start:end`:
 * listed once, then looked up per tensor (a file may hold 200,000).
 */
function refRanges(manifest: FileManifest): Set<string> {
  const ranges = new Set<string>()
  for (const { part, start, end } of placedParts(manifest))
    if ('ref' in part) ranges.add(`${start}:${end}`)
  return ranges
}

/** Formats whose bytes outside the tensors do not depend on the tensors' values (no checksums). */
const IN_PLACE = new Set(['safetensors', 'gguf', 'onnx', 'npy'])

function inPlaceable(t: TensorRecord): boolean {
  const e = t.encoding
  const plain =
    e.kind === 'blocks' || (e.kind === 'dense' && e.byteOrder === 'little' && e.order === 'C')
  return plain && !t.compression && t.file === undefined && t.end - t.start === t.nbytes
}

interface Job {
  store: Store
  input: MergeInput
  versions: Record<Side, Version>
  files: Partial<Record<Side, StoredFile>>
  /** mergeRaw's blocks of each side, allocated once per merge. */
  buffers?: Record<Side, Uint8Array>
}

async function fileOf(job: Job, side: Side): Promise<StoredFile> {
  let file = job.files[side]
  if (!file) {
    file = await openStoredFile(
      job.store,
      job.versions[side].manifest,
      `${job.input.path} (${side})`,
    )
    job.files[side] = file
  }
  return file
}

/** The merged bytes of one tensor, streamed: the strategy reads each side from the store. */
function mergedBytes(job: Job, name: string, spec: StrategySpec): AsyncIterable<Uint8Array> {
  const strategy = strategyOf(spec)
  const ours = job.versions.ours.tensors.get(name) as TensorRecord
  if (!strategy) throw new MlvcError('USAGE', `strategy ${spec.name} merges nothing`)
  return mergeTensor(strategy, {
    dtype: ours.dtype as DType,
    elements: ours.shape.reduce((a, b) => a * b, 1),
    name,
    signal: job.input.signal,
    open: (side) => {
      const record = job.versions[side].tensors.get(name) as TensorRecord
      return (async function* () {
        yield* readTensorFrom(
          await fileOf(job, side),
          record,
          job.input.signal ? { signal: job.input.signal } : {},
        )
      })()
    },
  })
}

/** The bytes a decision puts in the output for one tensor, decoded (as readTensor gives them). */
function replacementBytes(job: Job, decision: TensorDecision): AsyncIterable<Uint8Array> {
  if (decision.action === 'merge') return mergedBytes(job, decision.name, decision.spec)
  if (decision.action !== 'take') throw new Error(`no bytes for ${decision.action}`)
  const record = job.versions[decision.side].tensors.get(decision.name) as TensorRecord
  return (async function* () {
    yield* readTensorFrom(await fileOf(job, decision.side), record)
  })()
}

const COPY_BLOCK = 8 * 1024 * 1024

/** Bytes of each side merged at a time by mergeRaw. */
const MERGE_BLOCK = 4 * 1024 * 1024

/** Whether every side a merged tensor reads holds it as plain element bytes (no decoding). */
function rawMerge(job: Job, decision: TensorDecision): decision is MergeDecision {
  if (decision.action !== 'merge') return false
  return (strategyOf(decision.spec)?.reads ?? []).every((side) => {
    const t = job.versions[side].tensors.get(decision.name)
    return t !== undefined && t.encoding.kind === 'dense' && inPlaceable(t)
  })
}

type MergeDecision = Extract<TensorDecision, { action: 'merge' }>

/**
 * A merged tensor of plain element bytes, computed block by block from each side's bytes read
 * straight into reused buffers, into the writer's buffers: no decoding, and no allocation per block.
 */
async function mergeRaw(job: Job, decision: MergeDecision, writer: BlockWriter): Promise<void> {
  const strategy = strategyOf(decision.spec) as MergeStrategy
  const record = job.versions.ours.tensors.get(decision.name) as TensorRecord
  const dtype = record.dtype as DType
  const size = dtypeSize(dtype)
  const step = Math.max(size, Math.floor(writer.buffer().length / size) * size)
  const merge = strategy.begin({ dtype, elements: record.nbytes / size, name: decision.name })
  const sides = await Promise.all(
    strategy.reads.map(async (side) => ({
      side,
      start: (job.versions[side].tensors.get(decision.name) as TensorRecord).start,
      file: await fileOf(job, side),
    })),
  )
  const length = writer.buffer().length
  job.buffers ??= {
    base: new Uint8Array(length),
    ours: new Uint8Array(length),
    theirs: new Uint8Array(length),
  }
  const buffers = job.buffers
  const pass = async (each: (blocks: MergeBlocks) => Promise<void> | void) => {
    for (let at = 0; at < record.nbytes; at += step) {
      if (job.input.signal?.aborted) throw new MlvcError('INTERRUPTED', 'interrupted')
      const n = Math.min(step, record.nbytes - at)
      const blocks: MergeBlocks = { base: EMPTY, ours: EMPTY, theirs: EMPTY }
      for (const { side, start, file } of sides)
        blocks[side] = await file.readInto(start + at, buffers[side].subarray(0, n))
      await each(blocks)
    }
  }
  while (merge.needsPass) {
    await pass((blocks) => merge.scan(blocks))
    merge.endPass()
  }
  await pass((blocks) => writer.write(merge.merge(blocks, writer.buffer())))
}

const EMPTY = new Uint8Array(0)

/**
 * Same structure as the template: its bytes, verified as they are read from the store, with the
 * replaced tensors' bytes written over theirs at the same offsets (same dtype and shape, so same
 * size). Each write overlaps the next block's reading and merging.
 */
async function writeInPlace(job: Job, template: Version, replaced: TensorDecision[], out: string) {
  const side: Side = template === job.versions.ours ? 'ours' : 'theirs'
  const file = await fileOf(job, side)
  const handle = await open(out, 'wx')
  const writer = createBlockWriter(
    (bytes, position) => handle.write(bytes, 0, bytes.length, position),
    Math.max(8, job.input.blockBytes ?? MERGE_BLOCK),
  )
  const copy = async (end: number) => {
    for (let at = writer.position; at < end; at = writer.position)
      await writer.write(await file.read(at, Math.min(end - at, COPY_BLOCK)))
  }
  const targets = replaced
    .map((decision) => ({ decision, target: template.tensors.get(decision.name) as TensorRecord }))
    .sort((a, b) => a.target.start - b.target.start)
  try {
    for (const { decision, target } of targets) {
      await copy(target.start)
      if (rawMerge(job, decision)) await mergeRaw(job, decision, writer)
      else for await (const block of replacementBytes(job, decision)) await writer.write(block)
      if (writer.position !== target.end) {
        throw new MlvcError(
          'CORRUPT',
          `${job.input.path}: the merged ${decision.name} has ${writer.position - target.start} bytes, not ${target.end - target.start}`,
        )
      }
    }
    await copy(template.manifest.size)
  } finally {
    await writer.flush().catch(() => {})
    await handle.close()
  }
}

/** Any format: the template is written out and its tensors replaced by the formats layer. */
async function writeRewritten(
  job: Job,
  template: Version,
  replaced: TensorDecision[],
  out: string,
) {
  const tmp = join(job.store.layout.tmp, uniqueName('merge-in'))
  try {
    await materialize(job.store, template.id, tmp, {
      deltas: tensorDeltas(),
      signal: job.input.signal,
    })
    const replacements = new Map<string, TensorBytes>(
      replaced.map((d) => [d.name, replacementBytes(job, d)]),
    )
    // Materialized from the store, so checked against its sha-256; its CRCs were checked when stored.
    const layout = await readLayout(tmp, { checkCrc: false })
    await writeWithTensors(tmp, layout, replacements, out, {
      tmpDir: job.store.layout.tmp,
      fsync: false,
    })
  } finally {
    await rm(tmp, { force: true })
  }
}

/**
 * Writes the merged file into the store's tmp folder and stores it like an added checkpoint (cut
 * at tensors, hashed on worker threads, statistics on another), without deltas: merged tensors
 * differ from both sides nearly everywhere, and taken ones are stored already. The file is left
 * as the ready content of its id, so the checkout that follows moves it into the work tree.
 */
async function writeAndStore(job: Job, template: Version, replaced: TensorDecision[]) {
  const out = join(job.store.layout.tmp, uniqueName('merge-out'))
  try {
    const byRef = refRanges(template.manifest)
    const inPlace =
      IN_PLACE.has(template.meta.format) &&
      replaced.every((d) => {
        const t = template.tensors.get(d.name) as TensorRecord
        // Its own bytes: a part of the file, or a tensor small enough to be in the file's own
        // chunks (these formats' tensors never share bytes).
        const own = byRef.has(`${t.start}:${t.end}`) || t.end - t.start < INLINE_BELOW
        return inPlaceable(t) && own
      })
    await (inPlace ? writeInPlace : writeRewritten)(job, template, replaced, out)
    // Tensors not replaced keep the template's bytes, taken ones the chosen side's: their
    // statistics are in those versions' tables already.
    const knownStats = new Map(
      template.meta.tensors.map((t): [string, TensorStatsJSON | null] => [t.name, t.stats]),
    )
    for (const d of replaced) {
      const taken = d.action === 'take' ? job.versions[d.side].tensors.get(d.name) : undefined
      if (taken) knownStats.set(d.name, taken.stats)
      else knownStats.delete(d.name)
    }
    const stored = await ingestCheckpoint(job.store, out, undefined, {
      signal: job.input.signal,
      knownStats,
    })
    if (!stored.meta)
      throw new MlvcError(
        'CORRUPT',
        `${job.input.path}: the merged file does not read back as a checkpoint`,
      )
    offerReady(job.store, stored.id, out)
    return { id: stored.id, size: stored.size, sha256: stored.sha256, meta: stored.meta }
  } finally {
    await rm(out, { force: true })
  }
}

const fileConflict = (reason: ConflictReason, message: string): MergeConflict => ({
  tensor: undefined,
  reason,
  message,
})

/**
 * A three-way merge of stored checkpoints, tensor by tensor (see planMerge). The output keeps the
 * structure and metadata (safetensors `__metadata__`, GGUF key-values, …) of ours — or of theirs
 * when the merged tensor set is theirs (tensors added or removed there) — and is stored; the
 * caller writes its stub. Streaming: memory is a few blocks per side, whatever the size.
 */
export async function mergeCheckpoints(store: Store, input: MergeInput): Promise<MergeOutcome> {
  const versions = {
    base: await loadVersion(store, input.base, 'the merge base', input.path),
    ours: await loadVersion(store, input.ours, 'ours', input.path),
    theirs: await loadVersion(store, input.theirs, 'theirs', input.path),
  }
  const formats = new Set([
    versions.base.meta.format,
    versions.ours.meta.format,
    versions.theirs.meta.format,
  ])
  if (formats.size > 1) {
    const message = `the versions are in different formats (base ${versions.base.meta.format}, ours ${versions.ours.meta.format}, theirs ${versions.theirs.meta.format})`
    return { decisions: [], conflicts: [fileConflict('different-formats', message)] }
  }
  const external = externalFiles(versions)
  if (external.length > 0) {
    const message = `its tensors live in external data (${external.join(', ')}), which mlvc does not merge tensor by tensor`
    return { decisions: [], conflicts: [fileConflict('external-data', message)], external }
  }
  const decisions = planMerge(
    { base: versions.base.meta, ours: versions.ours.meta, theirs: versions.theirs.meta },
    input.choose,
  )
  const conflicts = decisions.flatMap((d): MergeConflict[] =>
    d.action === 'conflict' ? [{ tensor: d.name, reason: d.reason, message: d.message }] : [],
  )
  if (conflicts.length > 0) return { decisions, conflicts }
  const kept = decisions.flatMap((d) => {
    if (d.action === 'drop' || d.action === 'conflict') return []
    return [versions[d.action === 'take' ? d.side : 'ours'].tensors.get(d.name) as TensorRecord]
  })
  const template = [versions.ours, versions.theirs].find(
    (v) => signature(v.tensors.values()) === signature(kept),
  )
  if (!template) {
    return {
      decisions,
      conflicts: [
        fileConflict('tensor-set-changed', 'both sides changed which tensors the file holds'),
      ],
    }
  }
  const replaced = decisions.filter((d) => {
    if (d.action === 'merge') return true
    if (d.action !== 'take') return false
    const chosen = versions[d.side].tensors.get(d.name) as TensorRecord
    return chosen.content !== template.tensors.get(d.name)?.content
  })
  const job: Job = { store, input, versions, files: {} }
  try {
    const result =
      replaced.length === 0
        ? {
            id: template.id,
            size: template.manifest.size,
            sha256: template.manifest.sha256,
            meta: template.meta,
          }
        : await writeAndStore(job, template, replaced)
    return { decisions, conflicts: [], result }
  } finally {
    for (const file of Object.values(job.files)) await file?.close()
  }
}
