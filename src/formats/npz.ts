import { badFormat } from './bad-format.ts'
import type { CheckpointLayout, TensorLayout } from './layout.ts'
import { NPY_MAX_HEADER, type NpyHeader, readNpyHeader } from './npy.ts'
import { buildSegments, checkUniqueNames } from './segments.ts'
import type { ByteSource } from './source.ts'
import type { ZipDirectory, ZipEntry } from './zip.ts'
import { checkEntryCrc } from './zip-data.ts'

/** An .npz is a zip whose members are all .npy files (np.savez, np.savez_compressed). */
export function isNpz(dir: ZipDirectory): boolean {
  return dir.entries.length > 0 && dir.entries.every((e) => e.name.endsWith('.npy'))
}

function tensorName(entry: ZipEntry): string {
  return entry.name.slice(0, -'.npy'.length)
}

export function npyTensor(name: string, header: NpyHeader, start: number): TensorLayout {
  return {
    name,
    dtype: header.dtype,
    shape: header.shape,
    start,
    end: start + header.nbytes,
    encoding: { kind: 'dense', byteOrder: header.byteOrder, order: header.order },
    nbytes: header.nbytes,
  }
}

/**
 * A member's tensor. The whole member is read (inflated) once, to check its CRC-32 as NumPy does
 * when it loads it, and its .npy header is taken from the first bytes on the way; unchecked, a
 * stored member's header is read in place.
 */
async function memberTensor(
  src: ByteSource,
  entry: ZipEntry,
  checkCrc: boolean,
): Promise<TensorLayout> {
  const what = `member ${entry.name}`
  const keep = NPY_MAX_HEADER + 12
  const head =
    checkCrc || entry.method !== 0
      ? await checkEntryCrc(src, entry, keep)
      : await src.read(entry.dataStart, Math.min(keep, entry.size))
  const header = await readNpyHeader(src.path, what, async (n) => head.subarray(0, n))
  if (header.headerLength + header.nbytes !== entry.size) {
    throw badFormat(
      src.path,
      `${what} holds ${entry.size} bytes, its header says ${header.headerLength + header.nbytes}`,
    )
  }
  if (entry.method === 0)
    return npyTensor(tensorName(entry), header, entry.dataStart + header.headerLength)
  return {
    ...npyTensor(tensorName(entry), header, entry.dataStart),
    end: entry.dataEnd,
    compression: { method: 'deflate', size: entry.size, offset: header.headerLength },
  }
}

export async function readNpzLayout(
  src: ByteSource,
  dir: ZipDirectory,
  options: { checkCrc: boolean },
): Promise<CheckpointLayout> {
  const tensors: TensorLayout[] = []
  for (const entry of dir.entries) tensors.push(await memberTensor(src, entry, options.checkCrc))
  checkUniqueNames(src.path, tensors)
  return {
    format: 'npz',
    size: src.size,
    metadata: {},
    tensors,
    segments: buildSegments(src.path, src.size, tensors),
  }
}

export async function readNpyLayout(src: ByteSource): Promise<CheckpointLayout> {
  const header = await readNpyHeader(src.path, 'the array', (n) =>
    src.read(0, Math.min(n, src.size)),
  )
  if (header.headerLength + header.nbytes > src.size) {
    throw badFormat(
      src.path,
      `the array needs ${header.nbytes} bytes after its ${header.headerLength}-byte header; the file has ${src.size - header.headerLength}`,
    )
  }
  const tensors = [npyTensor('', header, header.headerLength)]
  return {
    format: 'npy',
    size: src.size,
    metadata: {},
    tensors,
    segments: buildSegments(src.path, src.size, tensors),
  }
}
