import { isMlvcError, MlvcError } from '../core/index.ts'
import {
  type DType,
  detectFormat,
  dtypeSize,
  isDType,
  readLayout,
  readTensor,
  readTensorFrom,
  type TensorLayout,
} from '../formats/index.ts'
import { isComplete, readManifest, type Store } from '../store/index.ts'
import { statsFromJSON, type TensorStats } from '../tensors/index.ts'
import { checkpointMeta, type TensorRecord } from './meta.ts'
import { openStoredFile, type StoredFile } from './stored-source.ts'
import { parseStubTensors, type StubTensor } from './stub-lines.ts'

/** Statistics of a tensor, and whether they were rounded (as a stub prints them: 4 digits). */
export interface KnownStats {
  value: TensorStats
  rounded: boolean
}

/** What is known about one tensor of one version of a checkpoint. */
export interface VersionTensor {
  name: string
  dtype: string
  shape: number[]
  /** Decoded bytes (elements × item size); undefined for quantized types known from a stub only. */
  bytes: number | undefined
  /** The id of its bytes (equal ids ⇔ equal bytes); undefined when not known (a file not stored). */
  content: string | undefined
  stats: KnownStats | undefined
  /** Streams its decoded little-endian bytes; undefined when the data is not local. */
  read: (() => AsyncIterable<Uint8Array>) | undefined
}

/** One version of a checkpoint (a file, or the shards of a sharded one) as far as it is known. */
export interface CheckpointVersion {
  format: string
  /** Store ids (file manifests) of its files; undefined when a file is not stored. */
  ids: string[] | undefined
  tensors: VersionTensor[]
  /** Releases what reading the data opened. */
  close(): Promise<void>
}

/** Where one version of a file can be found: its stub's facts, a local copy of its bytes, or both. */
export interface VersionSource {
  /** The file id a stub names. */
  id?: string | undefined
  /** The stub's lines after the required keys (format and tensor lines of a checkpoint). */
  stubLines?: readonly string[] | undefined
  /** A local file holding exactly this version's bytes. */
  file?: string | undefined
}

export interface OpenVersionOptions {
  /** The store, for exact statistics (manifests) and data; undefined to use the stub alone. */
  store?: Store | undefined
  /** Whether tensor data may be read (from `file` or the store). @default true */
  data?: boolean
}

const elementsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)

function byteSize(dtype: string, shape: readonly number[]): number | undefined {
  return isDType(dtype) ? elementsOf(shape) * dtypeSize(dtype as DType) : undefined
}

function fromRecord(record: TensorRecord): VersionTensor {
  return {
    name: record.name,
    dtype: record.dtype,
    shape: record.shape,
    bytes: record.nbytes,
    content: record.content ?? undefined,
    stats: record.stats
      ? { value: statsFromJSON(record.stats, record.name), rounded: false }
      : undefined,
    read: undefined,
  }
}

/** A stub prints `nan`, `inf`, `-inf`; counts other than the element count only when non-zero. */
export function stubStats(tensor: StubTensor): KnownStats | undefined {
  const s = tensor.stats
  if (s.mean === undefined) return undefined
  const num = (v: string | undefined) =>
    v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)
  const count = (v: string | undefined) => (v === undefined ? 0 : Number(v))
  return {
    rounded: true,
    value: {
      count: elementsOf(tensor.shape),
      mean: num(s.mean),
      std: num(s.std),
      min: num(s.min),
      max: num(s.max),
      l2: num(s.l2),
      zeros: count(s.zeros),
      nan: count(s.nan),
      posInf: count(s['+inf']),
      negInf: count(s['-inf']),
    },
  }
}

function fromStub(tensor: StubTensor): VersionTensor {
  return {
    name: tensor.name,
    dtype: tensor.dtype,
    shape: tensor.shape,
    bytes: byteSize(tensor.dtype, tensor.shape),
    content: tensor.content ?? undefined,
    stats: stubStats(tensor),
    read: undefined,
  }
}

function fromLayout(layout: TensorLayout): VersionTensor {
  return {
    name: layout.name,
    dtype: layout.dtype,
    shape: layout.shape,
    bytes: layout.nbytes,
    content: undefined,
    stats: undefined,
    read: undefined,
  }
}

/** Opens the stored file on first read; `close` removes what reading deltas left behind. */
function lazyStored(store: Store, id: string) {
  let opened: Promise<StoredFile> | undefined
  const open = async () => {
    const manifest = await readManifest(store, id)
    if (manifest.type !== 'file') throw new MlvcError('CORRUPT', `${id} is not a file manifest`)
    return openStoredFile(store, manifest, id)
  }
  return {
    read: (layout: TensorLayout) =>
      (async function* () {
        opened ??= open()
        yield* readTensorFrom(await opened, layout)
      })(),
    close: async () => {
      // An open that failed has reported its error to the reader already.
      const file = await opened?.catch(() => undefined)
      await file?.close()
    },
  }
}

async function storedMeta(store: Store | undefined, id: string | undefined) {
  if (!store || !id || !(await store.has(id))) return undefined
  return checkpointMeta(await readManifest(store, id))
}

/** The layout of a local file, or undefined when it is not a checkpoint (or does not parse). */
async function fileLayout(file: string) {
  if ((await detectFormat(file).catch(() => undefined)) === undefined) return undefined
  try {
    return await readLayout(file)
  } catch (err) {
    if (isMlvcError(err, 'BAD_FORMAT')) return undefined
    throw err
  }
}

/**
 * What can be known about one version of a file: exact statistics and byte offsets from its
 * manifest when the store has it, else the stub's tensor lines (rounded statistics), else the
 * header of a local copy. Tensors get a reader when their data is local — the local copy first,
 * then the store. Undefined when the file is not a checkpoint.
 */
export async function openVersion(
  source: VersionSource,
  options: OpenVersionOptions = {},
): Promise<CheckpointVersion | undefined> {
  const { store } = options
  const data = options.data !== false
  const ids = source.id ? [source.id] : undefined
  const meta = await storedMeta(store, source.id)
  if (meta) {
    const tensors = meta.tensors.map(fromRecord)
    const file = data ? source.file : undefined
    const stored =
      data && !file && store && source.id && (await isComplete(store, source.id))
        ? lazyStored(store, source.id)
        : undefined
    meta.tensors.forEach((record, i) => {
      const t = tensors[i] as VersionTensor
      if (file) t.read = () => readTensor(file, record)
      else if (stored && record.file === undefined) t.read = () => stored.read(record)
    })
    return { format: meta.format, ids, tensors, close: async () => stored?.close() }
  }
  const parsed = source.stubLines ? parseStubTensors(source.stubLines) : undefined
  const layout =
    source.file && (data || !parsed?.format) ? await fileLayout(source.file) : undefined
  if (parsed?.format) {
    const tensors = parsed.tensors.map(fromStub)
    if (layout && source.file) attachReaders(tensors, layout.tensors, source.file)
    return { format: parsed.format, ids, tensors, close: async () => undefined }
  }
  if (!layout || !source.file) return undefined
  const tensors = layout.tensors.map(fromLayout)
  if (data) attachReaders(tensors, layout.tensors, source.file)
  return { format: layout.format, ids: undefined, tensors, close: async () => undefined }
}

const PLAIN_NOTE = 'stored as a plain file: '

/**
 * Why `openVersion` finds no checkpoint in `source`, without the file's name: what the format
 * reader says of the local copy, else the note its stub carries (written when it was added), else
 * that it was stored as a plain file. `path` is the name the note gives the file.
 */
export async function whyNotCheckpoint(source: VersionSource, path = ''): Promise<string> {
  if (source.file) {
    try {
      await readLayout(source.file)
    } catch (err) {
      if (isMlvcError(err, 'BAD_FORMAT'))
        return err.path === source.file && err.detail !== undefined ? err.detail : err.message
      throw err
    }
  }
  const note = source.stubLines?.find((line) => line.startsWith('note: '))?.slice(6)
  if (note?.startsWith(PLAIN_NOTE)) {
    // The note is stored text ("stored as a plain file: PATH: WHY"): its name is cut off as written.
    const rest = note.slice(PLAIN_NOTE.length)
    const named = path !== '' && rest.startsWith(`${path}: `)
    return `${PLAIN_NOTE}${named ? rest.slice(path.length + 2) : rest}`
  }
  return note ?? 'stored as a plain file (not a checkpoint format mlvc reads)'
}

function attachReaders(tensors: VersionTensor[], layouts: TensorLayout[], file: string): void {
  const byName = new Map(layouts.map((l) => [l.name, l]))
  for (const t of tensors) {
    const layout = byName.get(t.name)
    if (layout && layout.dtype === t.dtype) t.read = () => readTensor(file, layout)
  }
}

/** The shards of a sharded checkpoint as one version (tensor names are unique across shards). */
export function combineVersions(parts: readonly CheckpointVersion[], format: string) {
  const ids = parts.every((p) => p.ids) ? parts.flatMap((p) => p.ids ?? []) : undefined
  return {
    format,
    ids,
    tensors: parts.flatMap((p) => p.tensors),
    close: async () => {
      for (const p of parts) await p.close()
    },
  } satisfies CheckpointVersion
}
