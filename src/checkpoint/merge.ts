import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError, uniqueName } from '../core/index.ts'
import {
  type DType,
  readLayout,
  readTensorFrom,
  type TensorBytes,
  writeWithTensors,
} from '../formats/index.ts'
import {
  chunkRefs,
  chunkSource,
  contentSource,
  encodeManifest,
  type FileManifest,
  type FilePart,
  iterableSource,
  materialize,
  readManifest,
  type Store,
} from '../store/index.ts'
import { createStatsAccumulator, mergeTensor, statsToJSON } from '../tensors/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'
import { planMerge, type Side, type TensorDecision } from './merge-plan.ts'
import { type CheckpointMeta, checkpointMeta, type TensorRecord } from './meta.ts'
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
}

export interface MergeOutcome {
  decisions: TensorDecision[]
  /** Non-empty: nothing was written; the caller reports these and leaves ours. */
  conflicts: Array<{ name: string; why: string }>
  result?: { id: string; size: number; sha256: string; meta: CheckpointMeta }
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
  const meta = checkpointMeta(manifest)
  if (!meta || manifest.type !== 'file') {
    throw new MlvcError(
      'USAGE',
      `${path}: ${label} is not a checkpoint mlvc could read tensor by tensor`,
    )
  }
  return { id, manifest, meta, tensors: new Map(meta.tensors.map((t) => [t.name, t])) }
}

const signature = (tensors: Iterable<TensorRecord>) =>
  [...tensors]
    .map((t) => `${t.name}|${t.dtype}|${t.shape.join(',')}`)
    .sort()
    .join('\n')

/** The part of a file manifest that holds exactly [start, end), by reference, if there is one. */
function refPartAt(
  manifest: FileManifest,
  start: number,
  end: number,
): { index: number; ref: string } | undefined {
  let offset = 0
  for (const [index, part] of manifest.parts.entries()) {
    const size = 'ref' in part ? part.size : part.chunks.reduce((sum, [, n]) => sum + n, 0)
    if (offset === start && offset + size === end && 'ref' in part) return { index, ref: part.ref }
    if (offset > start) return undefined
    offset += size
  }
  return undefined
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

/**
 * Same structure as the template: the output manifest is the template's with the replaced tensors'
 * parts swapped — taken tensors by reference to the other side's part, merged ones stored as new
 * parts. No file is written; only merged tensors and the whole-file hash cost a pass.
 */
async function assembleInPlace(job: Job, template: Version, replaced: TensorDecision[]) {
  const parts: FilePart[] = [...template.manifest.parts]
  const records = new Map(template.meta.tensors.map((t) => [t.name, t]))
  for (const decision of replaced) {
    const target = template.tensors.get(decision.name) as TensorRecord
    const slot = refPartAt(template.manifest, target.start, target.end) as { index: number }
    if (decision.action === 'take') {
      const source = job.versions[decision.side]
      const record = source.tensors.get(decision.name) as TensorRecord
      const from = refPartAt(source.manifest, record.start, record.end)
      if (from) {
        parts[slot.index] = { ref: from.ref, size: target.end - target.start }
        records.set(decision.name, { ...target, content: record.content, stats: record.stats })
        continue
      }
    }
    const stats = createStatsAccumulator(target.dtype as DType)
    const bytes = replacementBytes(job, decision)
    const counted = (async function* () {
      for await (const block of bytes) {
        stats.update(block)
        yield block
      }
    })()
    const content = await chunkSource(job.store, iterableSource(counted), { path: job.input.path })
    const part = encodeManifest({
      type: 'part',
      size: content.size,
      chunks: chunkRefs(content.chunks),
    })
    const ref = job.store.putObject('manifest', part)
    parts[slot.index] = { ref, size: content.size }
    records.set(decision.name, { ...target, content: ref, stats: statsToJSON(stats.result()) })
  }
  const meta: CheckpointMeta = {
    ...template.meta,
    tensors: template.meta.tensors.map((t) => records.get(t.name) as TensorRecord),
  }
  const size = template.manifest.size
  const draft: FileManifest = { type: 'file', size, sha256: '0'.repeat(64), parts, meta }
  const hash = createHash('sha256')
  const source = contentSource(job.store, draft, { deltas: tensorDeltas() })
  const block = Buffer.allocUnsafe(8 * 1024 * 1024)
  for (let n = await source.read(block); n > 0; n = await source.read(block))
    hash.update(block.subarray(0, n))
  const sha256 = hash.digest('hex')
  const id = job.store.putObject('manifest', encodeManifest({ ...draft, sha256 }))
  return { id, size, sha256, meta }
}

/** Any format: the template is written out, its tensors replaced by the formats layer, and stored. */
async function assembleByRewrite(job: Job, template: Version, replaced: TensorDecision[]) {
  const tmp = join(job.store.layout.tmp, uniqueName('merge-in'))
  const out = join(job.store.layout.tmp, uniqueName('merge-out'))
  try {
    await materialize(job.store, template.id, tmp, {
      deltas: tensorDeltas(),
      signal: job.input.signal,
    })
    const replacements = new Map<string, TensorBytes>(
      replaced.map((d) => [d.name, replacementBytes(job, d)]),
    )
    await writeWithTensors(tmp, await readLayout(tmp), replacements, out, {
      tmpDir: job.store.layout.tmp,
      fsync: false,
    })
    const stored = await ingestCheckpoint(job.store, out, undefined, {
      previous: template.id,
      signal: job.input.signal,
    })
    if (!stored.meta)
      throw new MlvcError(
        'CORRUPT',
        `${job.input.path}: the merged file does not read back as a checkpoint`,
      )
    return { id: stored.id, size: stored.size, sha256: stored.sha256, meta: stored.meta }
  } finally {
    await rm(tmp, { force: true })
    await rm(out, { force: true })
  }
}

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
    const why = `the versions are in different formats (base ${versions.base.meta.format}, ours ${versions.ours.meta.format}, theirs ${versions.theirs.meta.format})`
    return { decisions: [], conflicts: [{ name: '*', why }] }
  }
  const decisions = planMerge(
    { base: versions.base.meta, ours: versions.ours.meta, theirs: versions.theirs.meta },
    input.choose,
  )
  const conflicts = decisions.flatMap((d) =>
    d.action === 'conflict' ? [{ name: d.name, why: d.why }] : [],
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
      conflicts: [{ name: '*', why: 'both sides changed which tensors the file holds' }],
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
    const inPlace =
      IN_PLACE.has(template.meta.format) &&
      replaced.every((d) => {
        const t = template.tensors.get(d.name) as TensorRecord
        return inPlaceable(t) && refPartAt(template.manifest, t.start, t.end) !== undefined
      })
    const result =
      replaced.length === 0
        ? {
            id: template.id,
            size: template.manifest.size,
            sha256: template.manifest.sha256,
            meta: template.meta,
          }
        : inPlace
          ? await assembleInPlace(job, template, replaced)
          : await assembleByRewrite(job, template, replaced)
    return { decisions, conflicts: [], result }
  } finally {
    for (const file of Object.values(job.files)) await file?.close()
  }
}
