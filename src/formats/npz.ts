import { badFormat } from './bad-format.ts'
import { inflatePrefix } from './inflate.ts'
import type { CheckpointLayout, TensorLayout } from './layout.ts'
import { type NpyHeader, readNpyHeader } from './npy.ts'
import { buildSegments, checkUniqueNames } from './segments.ts'
import type { ByteSource } from './source.ts'
import type { ZipDirectory, ZipEntry } from './zip.ts'

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

async function memberTensor(src: ByteSource, entry: ZipEntry): Promise<TensorLayout> {
  const what = `member ${entry.name}`
  if (entry.flags & 1) throw badFormat(src.path, `${what} is encrypted`)
  const range = { start: entry.dataStart, end: entry.dataEnd, size: entry.size }
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize)
      throw badFormat(src.path, `${what}: a stored member's sizes differ`)
    const header = await readNpyHeader(src.path, what, (n) =>
      src.read(entry.dataStart, Math.min(n, entry.size)),
    )
    if (header.headerLength + header.nbytes !== entry.size) {
      throw badFormat(
        src.path,
        `${what} holds ${entry.size} bytes, its header says ${header.headerLength + header.nbytes}`,
      )
    }
    return npyTensor(tensorName(entry), header, entry.dataStart + header.headerLength)
  }
  if (entry.method !== 8)
    throw badFormat(src.path, `${what} uses compression method ${entry.method}`)
  const header = await readNpyHeader(src.path, what, (n) =>
    inflatePrefix(src, { ...range, need: n }, what),
  )
  if (header.headerLength + header.nbytes !== entry.size) {
    throw badFormat(
      src.path,
      `${what} inflates to ${entry.size} bytes, its header says ${header.headerLength + header.nbytes}`,
    )
  }
  return {
    ...npyTensor(tensorName(entry), header, entry.dataStart),
    end: entry.dataEnd,
    compression: { method: 'deflate', size: entry.size, offset: header.headerLength },
  }
}

export async function readNpzLayout(src: ByteSource, dir: ZipDirectory): Promise<CheckpointLayout> {
  const tensors: TensorLayout[] = []
  for (const entry of dir.entries) tensors.push(await memberTensor(src, entry))
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
