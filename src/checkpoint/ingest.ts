import { closeSync } from 'node:fs'
import {
  fsError,
  isMlvcError,
  MlvcError,
  matchesDigest,
  openForReading,
  type ProgressOptions,
  readFullSync,
} from '../core/index.ts'
import {
  type CheckpointLayout,
  detectFormat,
  readLayout,
  type Segment,
  type TensorLayout,
} from '../formats/index.ts'
import {
  type ByteSource,
  blocks,
  bufferSource,
  type ChunkedContent,
  chunkRefs,
  chunkSource,
  contentSource,
  type DataKind,
  type DataRegion,
  encodeManifest,
  encodePartManifest,
  fileManifestBuilder,
  fileSource,
  formatId,
  type IngestOptions,
  type IngestResult,
  type Manifest,
  onePartId,
  putContentManifest,
  readManifest,
  type Store,
  sha256Digest,
  storeChunksFrom,
} from '../store/index.ts'
import {
  encodeDelta,
  isLowRankDType,
  type LowRankDType,
  lowRankDelta,
  type TensorStatsJSON,
} from '../tensors/index.ts'
import { tensorDeltas } from './deltas.ts'
import { placedParts } from './file-parts.ts'
import { type CheckpointMeta, manifestMeta, readCheckpointMeta, type TensorRecord } from './meta.ts'
import { statsInWorker } from './stats-pool.ts'
import { tableFitsStub } from './stub-lines.ts'
import { storeTable } from './table.ts'

export interface CheckpointIngestOptions extends IngestOptions, ProgressOptions {
  /** The previous version of this file (a file id), for deltas and unchanged statistics. */
  previous?: string | undefined
  /**
   * Statistics of tensors whose bytes the caller copied from a stored version, by name: not
   * computed again (a merge passes those of the tensors it did not change).
   */
  knownStats?: ReadonlyMap<string, TensorStatsJSON | null>
  /** Longest chain of deltas before a tensor is stored whole again. @default 4 */
  maxDeltaDepth?: number
  /**
   * How notes name the file. Notes go into stubs, which must not depend on where the work tree
   * is: the filter passes the path relative to it. @default the path given
   */
  displayPath?: string
}

export interface CheckpointIngestResult extends IngestResult {
  /** The checkpoint description; undefined when the file was stored as a plain blob. */
  meta: CheckpointMeta | undefined
  /** Why a file that looked like a checkpoint was stored as a plain blob. */
  note: string | undefined
  /** Tensors stored as deltas against the previous version. */
  deltas: number
  /** Bytes this call added to the store, manifests and deltas included. */
  stored: number
}

/**
 * Segments smaller than this are not stored as parts of their own: their bytes go into the file's
 * own chunks with the bytes around them, and their tensors' content id is computed from those
 * bytes (onePartId: the id such a part would have, so versions compare as before). A part costs
 * two objects, over 200 bytes of store and index, more than such a tensor holds; a file of 200,000
 * tiny tensors would otherwise put 400,000 objects in the store.
 */
export const INLINE_BELOW = 1024

const isInline = (segment: Segment) => segment.end - segment.start < INLINE_BELOW

/** A delta is kept only when it is this much smaller than the chunks it replaces, and bounded. */
const DELTA_GAIN = 0.8
const MAX_DELTA_BYTES = 64 * 1024 * 1024

interface Previous {
  /** Storage id (part or delta) of each segment, by the names it holds. */
  segments: Map<string, { storage: string; size: number }>
  tensors: Map<string, TensorRecord>
}

const segmentKey = (segment: Segment) => segment.tensors.join('\u0000')

/**
 * The previous version's tensors and segment storage. Only its file manifest is read here: the
 * manifest of a segment (for a delta's base and depth) only when that segment changed.
 */
async function loadPrevious(store: Store, id: string | undefined): Promise<Previous | undefined> {
  if (!id || !(await store.has(id))) return undefined
  const manifest = await readManifest(store, id)
  // A previous version whose table is not here is no previous version: everything is new.
  const meta = await readCheckpointMeta(store, manifest).catch((err: unknown) => {
    if (isMlvcError(err, 'MISSING_OBJECT')) return undefined
    throw err
  })
  if (!meta || manifest.type !== 'file') return undefined
  const previous: Previous = {
    segments: new Map(),
    tensors: new Map(meta.tensors.map((t) => [t.name, t])),
  }
  const names = new Map<number, string[]>()
  for (const t of meta.tensors) {
    // As segments name them: only tensors with bytes in this file.
    if (t.end <= t.start || t.file !== undefined) continue
    const held = names.get(t.start)
    if (held) held.push(t.name)
    else names.set(t.start, [t.name])
  }
  for (const { part, start } of placedParts(manifest)) {
    const held = 'ref' in part ? names.get(start) : undefined
    if (held && 'ref' in part)
      previous.segments.set(held.join('\u0000'), { storage: part.ref, size: part.size })
  }
  return previous
}

/** Reads [start, end) of the file in blocks, checking each chunk of it against its digest. */
async function* verifiedRange(
  fd: number,
  path: string,
  content: ChunkedContent,
  first: number,
  last: number,
): AsyncIterable<Uint8Array> {
  for (let i = first; i < last; i++) {
    yield readVerified(fd, path, content, i)
  }
}

function readVerified(fd: number, path: string, content: ChunkedContent, i: number): Buffer {
  const length = content.chunks.length(i)
  const data = Buffer.allocUnsafe(length)
  const done = readFullSync(fd, data, content.chunks.offset(i))
  if (done < length || !matchesDigest(data, content.chunks.digest(i))) {
    throw new MlvcError('IO', `${path} changed while it was being stored`, {
      hint: 'store it again (git add)',
    })
  }
  return data
}

/**
 * Reads ranges of the file, in increasing order, from its chunks checked against their digests;
 * holds one chunk at a time (ranges are small: inline segments).
 */
function rangeReader(w: Writer): (start: number, end: number) => Buffer {
  const { chunks } = w.content
  let index = -1
  let chunk: Buffer = Buffer.alloc(0)
  let at = 0
  const load = (i: number) => {
    chunk = readVerified(w.fd, w.path, w.content, i)
    index = i
    at = chunks.offset(i)
  }
  return (start, end) => {
    if (index < 0 || start < at || start >= at + chunk.length)
      load(firstChunkFrom(w.content, start + 1, start < at ? 0 : Math.max(index, 0)) - 1)
    if (end <= at + chunk.length) return chunk.subarray(start - at, end - at)
    const pieces = [chunk.subarray(start - at)]
    while (at + chunk.length < end) {
      load(index + 1)
      pieces.push(chunk.subarray(0, end - at))
    }
    return Buffer.concat(pieces)
  }
}

/** The first chunk that starts at or after `at` (chunks are in file order). */
function firstChunkFrom(content: ChunkedContent, at: number, from = 0): number {
  let lo = from
  let hi = content.chunks.count
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (content.chunks.offset(mid) < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index range [first, last) of the chunks inside [start, end). */
function chunkRange(content: ChunkedContent, start: number, end: number): [number, number] {
  const first = firstChunkFrom(content, start)
  return [first, firstChunkFrom(content, end, first)]
}

interface Writer {
  store: Store
  fd: number
  path: string
  content: ChunkedContent
  regions: readonly DataRegion[]
  scratch: Scratch
}

/**
 * Appends the chunks in [first, last) that the store lacks, read back from the file, checked and
 * encoded on worker threads.
 */
async function writeChunks(w: Writer, first: number, last: number): Promise<void> {
  const which: number[] = []
  for (let i = first; i < last; i++)
    if (w.content.fresh[i] && !w.store.lookup(w.content.chunks.digest(i))) which.push(i)
  if (which.length === 0) return
  const { fd, path, regions } = w
  await storeChunksFrom(w.store, { fd, path, chunks: w.content.chunks, regions }, which)
}

interface SegmentPlan {
  segment: Segment
  first: number
  last: number
  partBytes: Buffer
  partId: string
}

/** What a changed segment's delta would be made against, and how small it must be. */
interface DeltaBase {
  storage: string
  manifest: Manifest
  depth: number
  /** A delta must take fewer bytes than this to be kept. */
  maxBytes: number
}

/**
 * The previous version of a changed segment, when a delta against it is allowed: same size, still
 * here, and a chain short enough (reading back should not have to replay many deltas).
 */
async function deltaBase(
  w: Writer,
  plan: SegmentPlan,
  previous: Previous,
  maxDepth: number,
): Promise<DeltaBase | undefined> {
  const before = previous.segments.get(segmentKey(plan.segment))
  const size = plan.segment.end - plan.segment.start
  if (!before || before.size !== size || !(await w.store.has(before.storage))) return undefined
  const manifest = await readManifest(w.store, before.storage)
  const depth = manifest.type === 'delta' ? manifest.depth : 0
  if (depth + 1 > maxDepth) return undefined
  let freshBytes = 0
  for (let i = plan.first; i < plan.last; i++)
    if (w.content.fresh[i]) freshBytes += w.content.chunks.length(i)
  const maxBytes = Math.min(MAX_DELTA_BYTES, Math.floor(freshBytes * DELTA_GAIN))
  if (maxBytes <= 0) return undefined
  return { storage: before.storage, manifest, depth, maxBytes }
}

function baseBlocks(w: Writer, base: DeltaBase): AsyncIterable<Uint8Array> {
  return blocks(
    contentSource(w.store, base.manifest, { deltas: tensorDeltas(), verifyChunks: true }),
  )
}

/** Stores a delta's bytes and its manifest; returns the manifest's id. */
async function putDelta(
  w: Writer,
  plan: SegmentPlan,
  base: DeltaBase,
  delta: { patch: Buffer; dtype: string },
): Promise<string> {
  // Deltas are deflated even in a store that stores data raw: they are a small part of the data
  // (used only when clearly smaller than the tensor), so it costs little and often saves a third.
  const stored = await chunkSource(w.store, bufferSource(delta.patch), {
    path: w.path,
    compress: true,
  })
  const manifest = encodeManifest({
    type: 'delta',
    size: plan.segment.end - plan.segment.start,
    content: plan.partId,
    base: base.storage,
    dtype: delta.dtype,
    depth: base.depth + 1,
    patch: chunkRefs(stored.chunks),
  })
  return w.store.putObject('manifest', manifest)
}

/**
 * Tries to store a changed segment as an exact byte-level delta against its previous version;
 * returns the delta's id, or undefined when a delta would not be clearly smaller than the new chunks.
 */
async function storeAsDelta(
  w: Writer,
  plan: SegmentPlan,
  base: DeltaBase,
): Promise<string | undefined> {
  const size = plan.segment.end - plan.segment.start
  const next = verifiedRange(w.fd, w.path, w.content, plan.first, plan.last)
  const pieces: Uint8Array[] = []
  const encoder = encodeDelta(baseBlocks(w, base), next, {
    dtype: 'U8',
    elements: size,
    maxBytes: base.maxBytes,
  })
  for (let step = await encoder.next(); ; step = await encoder.next()) {
    if (step.done) {
      if (!step.value) return undefined
      break
    }
    pieces.push(step.value)
  }
  return putDelta(w, plan, base, { patch: Buffer.concat(pieces), dtype: 'U8' })
}

/**
 * Both versions of a tensor are held in memory to find low-rank factors: tensors above this size
 * are not tried (a 4096 × 4096 F32 matrix is 64 MiB).
 */
const LOW_RANK_MAX_BYTES = 64 * 1024 * 1024

/** The segment's tensor when it may be stored as a low-rank delta: one 2-D float matrix. */
function lowRankCandidate(
  tensors: ReadonlyMap<string, TensorLayout>,
  segment: Segment,
): (TensorLayout & { dtype: LowRankDType }) | undefined {
  const [name, ...others] = segment.tensors
  const tensor = name === undefined || others.length > 0 ? undefined : tensors.get(name)
  if (tensor?.shape.length !== 2 || !isLowRankDType(tensor.dtype)) return undefined
  const [rows = 0, cols = 0] = tensor.shape
  const size = segment.end - segment.start
  if (tensor.encoding.kind !== 'dense' || tensor.compression || tensor.nbytes !== size)
    return undefined
  if (rows < 16 || cols < 16 || size > LOW_RANK_MAX_BYTES) return undefined
  return tensor as TensorLayout & { dtype: LowRankDType }
}

/**
 * Memory for the two versions of the tensors tried as low-rank deltas, reused from one tensor to
 * the next: touching fresh memory costs more here than reading the tensor into it.
 */
interface Scratch {
  old: Buffer
  next: Buffer
}

function scratchOf(scratch: Scratch, which: keyof Scratch, size: number): Buffer {
  if (scratch[which].length < size) scratch[which] = Buffer.allocUnsafe(size)
  return scratch[which].subarray(0, size)
}

async function readAll(source: AsyncIterable<Uint8Array>, out: Buffer): Promise<Buffer> {
  const size = out.length
  let at = 0
  for await (const block of source) {
    if (at + block.length > size) throw new MlvcError('INTERNAL', 'a tensor outgrew its size')
    out.set(block, at)
    at += block.length
  }
  return out.subarray(0, at)
}

/**
 * Tries to store a changed 2-D tensor as an exact low-rank delta (a merged LoRA fine-tune changes
 * every element by a product of two thin matrices); returns the delta's id, or undefined when the
 * change is sparse, not close to low rank, or its delta would not be clearly smaller.
 */
async function storeAsLowRank(
  w: Writer,
  plan: SegmentPlan,
  base: DeltaBase,
  tensor: TensorLayout & { dtype: LowRankDType },
): Promise<string | undefined> {
  const size = plan.segment.end - plan.segment.start
  const next = await readAll(
    verifiedRange(w.fd, w.path, w.content, plan.first, plan.last),
    scratchOf(w.scratch, 'next', size),
  )
  const old = await readAll(baseBlocks(w, base), scratchOf(w.scratch, 'old', size))
  if (old.length !== size) return undefined
  const [rows = 0, cols = 0] = tensor.shape
  const patch = lowRankDelta(old, next, {
    dtype: tensor.dtype,
    rows,
    cols,
    maxBytes: base.maxBytes,
  })
  if (!patch) return undefined
  const bytes = Buffer.from(patch.buffer, patch.byteOffset, patch.length)
  return putDelta(w, plan, base, { patch: bytes, dtype: tensor.dtype })
}

/** Stores a changed segment as a low-rank or a sparse delta when one is clearly smaller. */
async function storeChanged(
  w: Writer,
  plan: SegmentPlan,
  previous: Previous,
  options: { maxDepth: number; tensors: ReadonlyMap<string, TensorLayout> },
): Promise<string | undefined> {
  const base = await deltaBase(w, plan, previous, options.maxDepth)
  if (!base) return undefined
  const tensor = lowRankCandidate(options.tensors, plan.segment)
  return (tensor && (await storeAsLowRank(w, plan, base, tensor))) ?? storeAsDelta(w, plan, base)
}

/** How a tensor's bytes are encoded in the store: floats by byte planes, the rest as bytes. */
function dataKindOf(tensor: TensorLayout): DataKind {
  const { kind } = tensor.encoding
  if (tensor.compression || (kind !== 'dense' && kind !== 'strided')) return 'bytes'
  switch (tensor.dtype) {
    case 'F16':
    case 'BF16':
      return 'float16'
    case 'F32':
      return 'float32'
    case 'F64':
      return 'float64'
    default:
      return 'bytes'
  }
}

/**
 * What the file holds where: each segment as its tensors' data kind (plain bytes when they
 * differ), the bytes between segments as plain bytes.
 */
function regionsOf(layout: CheckpointLayout): DataRegion[] {
  const kinds = new Map(layout.tensors.map((t) => [t.name, dataKindOf(t)]))
  const regions: DataRegion[] = []
  for (const segment of layout.segments) {
    if (isInline(segment)) continue
    const [first, ...rest] = segment.tensors.map((name) => kinds.get(name) ?? 'bytes')
    const kind = first !== undefined && rest.every((k) => k === first) ? first : 'bytes'
    // Adjacent segments: the next one's start comes after this end and wins (regionCursor).
    regions.push({ start: segment.start, kind }, { start: segment.end, kind: 'bytes' })
  }
  return regions
}

/** Segment boundaries as forced chunk ends: every tensor starts and ends a chunk. */
function boundariesOf(layout: CheckpointLayout): number[] {
  // Segments are sorted and disjoint, so the cuts come out sorted; adjacent ones share a cut.
  const cuts: number[] = []
  const add = (at: number) => {
    if (at > 0 && at < layout.size && cuts[cuts.length - 1] !== at) cuts.push(at)
  }
  for (const s of layout.segments) {
    if (isInline(s)) continue
    add(s.start)
    add(s.end)
  }
  return cuts
}

/**
 * The file as gaps (inline chunks) and segments (a part or delta by id), in order, into the file
 * manifest being built.
 */
async function assemble(
  w: Writer,
  layout: CheckpointLayout,
  previous: Previous | undefined,
  options: CheckpointIngestOptions,
) {
  const parts = fileManifestBuilder(w.content.size, w.content.sha256)
  /** The part id of each tensor with bytes in the file, by name. */
  const contentOf = new Map<string, string>()
  let deltas = 0
  let offset = 0
  const tensors = new Map(layout.tensors.map((t) => [t.name, t]))
  const read = rangeReader(w)
  const gap = async (end: number) => {
    if (end <= offset) return
    const [first, last] = chunkRange(w.content, offset, end)
    await writeChunks(w, first, last)
    parts.addChunks(w.content.chunks, first, last)
  }
  for (const segment of layout.segments) {
    if (isInline(segment)) {
      // Stored with the gap around it (chunked by the next gap call).
      const id = onePartId(read(segment.start, segment.end))
      for (const name of segment.tensors) contentOf.set(name, id)
      continue
    }
    await gap(segment.start)
    const [first, last] = chunkRange(w.content, segment.start, segment.end)
    const size = segment.end - segment.start
    const partBytes = encodePartManifest(size, w.content.chunks, first, last)
    let partId: string | undefined
    let storage: string | undefined
    const changed = previous && w.content.fresh.subarray(first, last).some((f) => f === 1)
    if (changed) {
      const partDigest = sha256Digest(partBytes)
      partId = formatId('manifest', partDigest)
      // The in-memory table only: a part another process wrote meanwhile costs at most a delta.
      if (!w.store.lookup(partDigest)) {
        const plan = { segment, first, last, partBytes, partId }
        storage = await storeChanged(w, plan, previous, {
          maxDepth: options.maxDeltaDepth ?? 4,
          tensors,
        })
        if (storage) deltas++
      }
    }
    if (!storage) {
      await writeChunks(w, first, last)
      storage = w.store.putObject('manifest', partBytes)
    }
    // Stored whole, the part's id is the one putObject gives.
    partId ??= storage
    for (const name of segment.tensors) contentOf.set(name, partId)
    parts.addRef(storage, size)
    offset = segment.end
  }
  await gap(layout.size)
  return { parts, contentOf, deltas }
}

/** Statistics computed on a worker while the file is chunked, for `tensors`. */
interface EarlyStats {
  tensors: TensorLayout[]
  stats: Promise<Array<TensorStatsJSON | null>>
}

/**
 * The tensor table, made of the layout's tensor objects. Statistics: given (`known`), carried
 * over for tensors whose bytes did not change, taken from `early` (computed on a worker while the
 * file was being chunked, when there is no previous version), else computed now for the changed
 * tensors only.
 */
async function tensorRecords(
  path: string,
  tensors: readonly TensorLayout[],
  contentOf: ReadonlyMap<string, string>,
  previous: Previous | undefined,
  early: EarlyStats | undefined,
  known: ReadonlyMap<string, TensorStatsJSON | null>,
): Promise<TensorRecord[]> {
  // The layout's objects become the records, keys in the same order as `{ ...tensor, content,
  // stats }` (which fixes the manifest's bytes): a file may list 200,000 tensors, and copying each
  // (a spread is slow besides) would double what they take.
  const records: TensorRecord[] = tensors.map((tensor) => {
    const content = contentOf.get(tensor.name) ?? null
    const before = previous?.tensors.get(tensor.name)
    const unchanged = before !== undefined && content !== null && before.content === content
    const stats = known.get(tensor.name) ?? (unchanged ? before.stats : null)
    return Object.assign(tensor, { content, stats })
  })
  const todo = records.filter((r) => r.stats === null && !known.has(r.name))
  const computed = early !== undefined ? await early.stats : await statsInWorker(path, todo)
  const order = early !== undefined ? early.tensors : todo
  // `order` lists a subsequence of the records, in their order.
  let next = 0
  for (const record of records) {
    if (order[next]?.name !== record.name) continue
    if (record.stats === null) record.stats = computed[next] ?? null
    next++
  }
  return records
}

async function asBlob(
  w: Writer,
  note: string | undefined,
  stored0: number,
): Promise<CheckpointIngestResult> {
  const { content, store } = w
  await writeChunks(w, 0, content.chunks.count)
  const id = putContentManifest(store, content.size, content.sha256, content.chunks)
  return result(id, content, undefined, note, 0, store.writer().bytesWritten - stored0)
}

function result(
  id: string,
  content: ChunkedContent,
  meta: CheckpointMeta | undefined,
  note: string | undefined,
  deltas: number,
  stored: number,
): CheckpointIngestResult {
  let newBytes = 0
  let newChunks = 0
  for (let i = 0; i < content.chunks.count; i++) {
    if (content.fresh[i]) {
      newChunks++
      newBytes += content.chunks.length(i)
    }
  }
  return {
    id,
    size: content.size,
    sha256: content.sha256,
    chunks: content.chunks.count,
    newChunks,
    newBytes,
    meta,
    note,
    deltas,
    stored,
  }
}

/**
 * Stores a checkpoint tensor by tensor: the file is cut at every tensor's boundaries (so an
 * unchanged tensor yields the same chunks), each tensor's bytes become a part, and a changed tensor
 * whose previous version is known is stored as an exact delta when that is clearly smaller.
 * Statistics are computed for new tensors and carried over for unchanged ones. The layout is read
 * from `path`; the bytes come from `source` (git's pipe, during a clean) or from `path`. A file
 * that is not a checkpoint, or does not parse, is stored as a plain blob (with a note saying why).
 */
export async function ingestCheckpoint(
  store: Store,
  path: string,
  source: ByteSource | undefined,
  options: CheckpointIngestOptions = {},
): Promise<CheckpointIngestResult> {
  const { fd } = openForReading(path)
  try {
    const stored0 = store.writer().bytesWritten
    let layout: CheckpointLayout | undefined
    let note: string | undefined
    if ((await detectFormat(path).catch(() => undefined)) !== undefined) {
      try {
        layout = await readLayout(path)
      } catch (err) {
        if (!isMlvcError(err, 'BAD_FORMAT')) throw err
        const named = options.displayPath ?? path
        note =
          err.path === path && err.detail !== undefined ? `${named}: ${err.detail}` : err.message
      }
    }
    const previous = layout ? await loadPrevious(store, options.previous) : undefined
    // Without a previous version every tensor is new: its statistics are computed on a worker
    // while the pipeline chunks the file.
    const known = options.knownStats ?? new Map()
    const fresh = layout?.tensors.filter((t) => !known.has(t.name)) ?? []
    const early =
      layout && !previous ? { tensors: fresh, stats: statsInWorker(path, fresh) } : undefined
    // With a previous version a changed tensor may go in as a delta, so chunks are only cut and
    // hashed first and written once decided; otherwise they are written as they are cut.
    const regions = layout ? regionsOf(layout) : []
    const content = await chunkSource(store, source ?? fileSource(fd), {
      ...options,
      path,
      boundaries: layout ? boundariesOf(layout) : [],
      regions,
      dryRun: previous !== undefined,
    })
    const scratch = { old: Buffer.alloc(0), next: Buffer.alloc(0) }
    const w: Writer = { store, fd, path, content, regions, scratch }
    if (!layout || layout.size !== content.size) return await asBlob(w, note, stored0)
    const { parts, contentOf, deltas } = await assemble(w, layout, previous, options)
    const { format, metadata, tensors } = layout
    // The segments are stored now; a file may have 200,000 of them.
    layout = undefined
    const meta: CheckpointMeta = {
      kind: 'checkpoint',
      format,
      metadata,
      tensors: await tensorRecords(path, tensors, contentOf, previous, early, known),
    }
    if (!tableFitsStub(meta)) meta.table = await storeTable(store, meta.tensors, path)
    const id = parts.put(store, manifestMeta(meta), meta.table)
    return result(id, content, meta, undefined, deltas, store.writer().bytesWritten - stored0)
  } catch (err) {
    throw fsError(err, 'storing', path)
  } finally {
    closeSync(fd)
  }
}
