import { isMlvcError, MlvcError } from '../core/index.ts'
import {
  type DType,
  detectFormat,
  dtypeSize,
  isDType,
  openTensorReader,
  readLayout,
  readTensorFrom,
  type TensorLayout,
  type TensorReader,
} from '../formats/index.ts'
import { isComplete, readManifest, type Store } from '../store/index.ts'
import { statsFromJSON, type TensorStats } from '../tensors/index.ts'
import { type CheckpointMeta, readCheckpointMeta, type TensorRecord } from './meta.ts'
import { openStoredFile, type StoredFile } from './stored-source.ts'
import { parseStubTensors, type StubTensor } from './stub-lines.ts'
import { readTable } from './table.ts'

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
  /** Names the file in messages. */
  path?: string | undefined
}

export interface OpenVersionOptions {
  /** The store, for exact statistics (manifests) and data; undefined to use the stub alone. */
  store?: Store | undefined
  /**
   * Without `store`: where the tensor table a stub names (one too long to list in it) is read
   * from. The stub alone does not list those tensors.
   */
  tables?: Store | undefined
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

/** A stored version's description, when the store has its manifest and table. */
async function storedMeta(store: Store | undefined, id: string | undefined) {
  if (!store || !id || !(await store.has(id))) return undefined
  return readCheckpointMeta(store, await readManifest(store, id)).catch(unlessMissing)
}

function unlessMissing(err: unknown): undefined {
  if (isMlvcError(err, 'MISSING_OBJECT')) return undefined
  throw err
}

/**
 * The tensors of a stub that names a table stored on its own, read from the store; MISSING_OBJECT
 * naming the file when it is not here (the stub alone lists no tensors).
 */
async function tableTensors(
  store: Store | undefined,
  table: { id: string; count: number | undefined },
  where: string | undefined,
): Promise<VersionTensor[]> {
  const records =
    store && (await store.has(table.id))
      ? await readTable(store, table.id, table.count ?? 0).catch(unlessMissing)
      : undefined
  if (!records) {
    throw new MlvcError(
      'MISSING_OBJECT',
      `${where ?? 'a checkpoint'}: its ${table.count ?? ''} tensors are listed in a table in the mlvc store (${table.id}), which is not available here`,
      { hint: 'fetch the content (mlvc fetch, or mlvc pull), then try again' },
    )
  }
  return records.map(fromRecord)
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
 * The tensor table of a version when the store has it: the table a stub names, read directly
 * (the file manifest, with a part per tensor, is needed only for the data), else the manifest's.
 */
async function knownMeta(
  source: VersionSource,
  parsed: ReturnType<typeof parseStubTensors> | undefined,
  options: OpenVersionOptions,
): Promise<Pick<CheckpointMeta, 'format' | 'tensors'> | undefined> {
  const tables = options.store ?? options.tables
  if (parsed?.table && parsed.format && tables && (await tables.has(parsed.table))) {
    const records = await readTable(tables, parsed.table, parsed.count ?? 0).catch(unlessMissing)
    if (records) return { format: parsed.format as CheckpointMeta['format'], tensors: records }
  }
  return storedMeta(options.store, source.id)
}

/** Tensors of a local file, read through one descriptor opened on the first read. */
function localReader(file: string) {
  let reader: TensorReader | undefined
  return {
    read: (layout: TensorLayout) =>
      (async function* () {
        reader ??= openTensorReader(file)
        yield* reader.read(layout)
      })(),
    close: () => reader?.close(),
  }
}

/**
 * What can be known about one version of a file: exact statistics and byte offsets from its
 * tensor table when the store has it (the one its stub names, or its manifest's), else the stub's
 * tensor lines (rounded statistics), else the header of a local copy. Tensors get a reader when
 * their data is local — the local copy first, then the store. Undefined when the file is not a
 * checkpoint.
 */
export async function openVersion(
  source: VersionSource,
  options: OpenVersionOptions = {},
): Promise<CheckpointVersion | undefined> {
  const { store } = options
  const data = options.data !== false
  const ids = source.id ? [source.id] : undefined
  const parsed = source.stubLines ? parseStubTensors(source.stubLines) : undefined
  const meta = await knownMeta(source, parsed, options)
  const local = data && source.file ? localReader(source.file) : undefined
  if (meta) {
    const tensors = meta.tensors.map(fromRecord)
    const stored =
      data && !local && store && source.id && (await isComplete(store, source.id))
        ? lazyStored(store, source.id)
        : undefined
    meta.tensors.forEach((record, i) => {
      const t = tensors[i] as VersionTensor
      if (local) t.read = () => local.read(record)
      else if (stored && record.file === undefined) t.read = () => stored.read(record)
    })
    const close = async () => {
      local?.close()
      await stored?.close()
    }
    return { format: meta.format, ids, tensors, close }
  }
  const layout =
    source.file && (data || !parsed?.format) ? await fileLayout(source.file) : undefined
  const close = async () => local?.close()
  if (parsed?.format) {
    const tensors =
      parsed.table === undefined
        ? parsed.tensors.map(fromStub)
        : await tableTensors(
            store ?? options.tables,
            { id: parsed.table, count: parsed.count },
            source.path,
          )
    if (layout && local) attachReaders(tensors, layout.tensors, local)
    return { format: parsed.format, ids, tensors, close }
  }
  if (!layout || !source.file) return undefined
  const tensors = layout.tensors.map(fromLayout)
  if (local) attachReaders(tensors, layout.tensors, local)
  return { format: layout.format, ids: undefined, tensors, close }
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

function attachReaders(
  tensors: VersionTensor[],
  layouts: TensorLayout[],
  local: ReturnType<typeof localReader>,
): void {
  const byName = new Map(layouts.map((l) => [l.name, l]))
  for (const t of tensors) {
    const layout = byName.get(t.name)
    if (layout && layout.dtype === t.dtype) t.read = () => local.read(layout)
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
