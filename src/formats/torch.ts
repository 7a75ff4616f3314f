import { badFormat, elementCount } from './bad-format.ts'
import { dtypeSize } from './dtype.ts'
import { flattenPickle } from './flatten.ts'
import type { ByteOrder, CheckpointLayout, TensorLayout } from './layout.ts'
import { sortedRecord } from './metadata.ts'
import { unpickle } from './pickle.ts'
import { buildSegments, checkUniqueNames } from './segments.ts'
import type { ByteSource } from './source.ts'
import { cStrides, isContiguous, viewSpan } from './strided.ts'
import { storageOf, type TorchTensor, tensorOf, torchHooks } from './torch-globals.ts'
import type { ZipDirectory, ZipEntry } from './zip.ts'
import { checkEntryCrc, readZipEntry } from './zip-data.ts'

/** `torch.save` before 1.6 (`_use_new_zipfile_serialization=False`): a pickled magic number first. */
const LEGACY_MAGIC = Uint8Array.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
])

export function isLegacyTorch(head: Uint8Array): boolean {
  return head.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => head[i] === b)
}

export function legacyTorchError(path: string): Error {
  return badFormat(
    path,
    'this is the legacy (pre-1.6, non-zip) torch.save format, which mlvc does not read tensor by tensor',
  )
}

/**
 * The `<prefix>/data.pkl` entry of a torch zip, if the archive is one. The prefix is the folder of
 * the archive's first entry, as PyTorch's reader takes it (it reads nothing outside that folder).
 */
export function torchPickleEntry(dir: ZipDirectory): ZipEntry | undefined {
  const first = dir.entries[0]?.name ?? ''
  const slash = first.indexOf('/')
  if (slash <= 0) return undefined
  const name = `${first.slice(0, slash)}/data.pkl`
  return dir.entries.find((e) => e.name === name)
}

/** TorchScript archives (torch.jit.save) pickle code objects, never a plain state dict. */
export function isTorchScript(dir: ZipDirectory, prefix: string): boolean {
  return dir.entries.some(
    (e) => e.name === `${prefix}/constants.pkl` || e.name.startsWith(`${prefix}/code/`),
  )
}

async function readByteOrder(
  src: ByteSource,
  dir: ZipDirectory,
  prefix: string,
): Promise<ByteOrder> {
  const entry = dir.entries.find((e) => e.name === `${prefix}/byteorder`)
  if (!entry) return 'little'
  const text = new TextDecoder().decode(await readZipEntry(src, entry, 16))
  if (text !== 'little' && text !== 'big')
    throw badFormat(src.path, `${entry.name} says ${JSON.stringify(text)}`)
  return text
}

interface Placed {
  name: string
  t: TorchTensor
  /** The zip entry of the tensor's storage. */
  entry: ZipEntry
  byteOrder: ByteOrder
}

function tensorLayout(path: string, { name, t, entry, byteOrder }: Placed): TensorLayout {
  const what = `tensor ${name || '(root)'}`
  const item = dtypeSize(t.dtype)
  const storageBytes =
    t.storage.dtype === undefined ? t.storage.numel : t.storage.numel * dtypeSize(t.storage.dtype)
  if (entry.size !== storageBytes) {
    throw badFormat(
      path,
      `${what}: ${entry.name} holds ${entry.size} bytes, its storage needs ${storageBytes}`,
    )
  }
  if (entry.method !== 0)
    throw badFormat(
      path,
      `${what}: ${entry.name} is compressed; torch stores storages uncompressed`,
    )
  // A view may be larger than its storage (stride 0), so only this bounds its size.
  const nbytes = elementCount(path, what, [...t.shape, item])
  if (nbytes > 0) {
    const [, last] = viewSpan({ shape: t.shape, strides: t.strides, offset: t.offset })
    if ((last + 1) * item > storageBytes) {
      throw badFormat(
        path,
        `${what}: the view (offset ${t.offset}, shape [${t.shape}], strides [${t.strides}]) reads past its ${storageBytes}-byte storage`,
      )
    }
  }
  return {
    name,
    dtype: t.dtype,
    shape: t.shape,
    start: entry.dataStart,
    end: entry.dataEnd,
    encoding: {
      kind: 'strided',
      byteOrder,
      storageOffset: t.offset,
      strides: t.strides,
      contiguous: isContiguous(t.shape, t.strides),
    },
    nbytes,
  }
}

/** A bare storage saved on its own reads as a 1-D tensor over all of it. */
function asTensor(v: Parameters<typeof tensorOf>[0]): TorchTensor | undefined {
  const tensor = tensorOf(v)
  if (tensor) return tensor
  const storage = storageOf(v)
  if (!storage?.dtype) return undefined
  return {
    storage,
    dtype: storage.dtype,
    offset: 0,
    shape: [storage.numel],
    strides: cStrides([storage.numel]),
  }
}

export async function readTorchLayout(
  src: ByteSource,
  dir: ZipDirectory,
  options: { maxHeaderBytes: number; checkCrc: boolean },
): Promise<CheckpointLayout> {
  const { maxHeaderBytes } = options
  const pkl = torchPickleEntry(dir)
  if (!pkl) throw badFormat(src.path, 'a zip archive without data.pkl is not a torch checkpoint')
  const prefix = pkl.name.slice(0, -'/data.pkl'.length)
  if (isTorchScript(dir, prefix)) {
    throw badFormat(
      src.path,
      'this is a TorchScript archive (torch.jit.save), which mlvc does not read tensor by tensor',
    )
  }
  const byteOrder = await readByteOrder(src, dir, prefix)
  const root = unpickle(await readZipEntry(src, pkl, maxHeaderBytes), {
    file: src.path,
    what: pkl.name,
    ...torchHooks(src.path, pkl.name),
  })
  const flat = flattenPickle(src.path, root, asTensor)
  const entries = new Map(dir.entries.map((e) => [e.name, e]))
  const storageEntries = new Map<number, ZipEntry>()
  const tensors = flat.tensors.map(([name, t]) => {
    const entry = entries.get(`${prefix}/data/${t.storage.key}`)
    if (!entry)
      throw badFormat(
        src.path,
        `tensor ${name}: storage ${prefix}/data/${t.storage.key} is missing`,
      )
    storageEntries.set(entry.dataStart, entry)
    return tensorLayout(src.path, { name, t, entry, byteOrder })
  })
  checkUniqueNames(src.path, tensors)
  // Each storage is read once here: later reads go by offset, trusting this layout.
  if (options.checkCrc) {
    for (const start of new Set(tensors.map((t) => t.start)))
      await checkEntryCrc(src, storageEntries.get(start) as ZipEntry)
  }
  return {
    format: 'pytorch',
    size: src.size,
    metadata: sortedRecord(flat.values),
    tensors,
    segments: buildSegments(src.path, src.size, tensors),
  }
}
