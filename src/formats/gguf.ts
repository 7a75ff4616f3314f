import { createHash } from 'node:crypto'
import { badFormat, checkCount, elementCount } from './bad-format.ts'
import { type Cursor, createCursor } from './cursor.ts'
import { ggmlType } from './ggml.ts'
import type { CheckpointLayout, MetadataValue, TensorLayout } from './layout.ts'
import { metadataNumber, sortedRecord } from './metadata.ts'
import { buildSegments, checkDisjointTensors, checkUniqueNames } from './segments.ts'
import type { ByteSource } from './source.ts'

export const GGUF_MAGIC = 0x46554747 // "GGUF" read little-endian

const VALUE_TYPES = [
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'UINT32',
  'INT32',
  'FLOAT32',
  'BOOL',
  'STRING',
  'ARRAY',
  'UINT64',
  'INT64',
  'FLOAT64',
] as const
const FIXED_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8] // STRING and ARRAY: their minimum
const T_STRING = 8
const T_ARRAY = 9

/** Arrays longer than this, and strings longer than MAX_STRING, are summarized in metadata. */
const MAX_ARRAY = 64
const MAX_STRING = 64 * 1024
const MAX_DIMS = 4
const DEFAULT_ALIGNMENT = 32

export function hasGgufMagic(head: Uint8Array): boolean {
  return (
    head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46
  )
}

interface Header {
  version: number
  tensorCount: number
  kvCount: number
}

async function readHeader(c: Cursor): Promise<Header> {
  const path = c.source.path
  if ((await c.u32()) !== GGUF_MAGIC) throw badFormat(path, 'no GGUF magic')
  const version = await c.u32()
  if (version === 1)
    throw badFormat(
      path,
      'GGUF version 1 (2023) is not read; convert the file with a current llama.cpp',
    )
  if (version === 0x02000000 || version === 0x03000000)
    throw badFormat(path, 'big-endian GGUF files are not read')
  if (version !== 2 && version !== 3) throw badFormat(path, `GGUF version ${version} is unknown`)
  const tensorCount = checkCount(path, 'GGUF tensor count', await c.u64())
  const kvCount = checkCount(path, 'GGUF key-value count', await c.u64())
  // Each entry takes bytes, so the counts cannot exceed the file: no loop runs longer than it.
  if (tensorCount * 24 + kvCount * 13 > c.end) {
    throw badFormat(
      path,
      `${tensorCount} tensors and ${kvCount} key-values cannot fit in ${c.end} bytes`,
    )
  }
  return { version, tensorCount, kvCount }
}

async function readString(
  c: Cursor,
  what: string,
  max: number,
): Promise<string | { length: number }> {
  const length = checkCount(c.source.path, `${what} length`, await c.u64())
  if (length > max) {
    c.skip(length)
    return { length }
  }
  return new TextDecoder().decode(await c.bytes(length))
}

async function readKey(c: Cursor): Promise<string> {
  const key = await readString(c, 'GGUF key', 65536)
  if (typeof key !== 'string')
    throw badFormat(c.source.path, `a GGUF key of ${key.length} bytes is too long`)
  return key
}

async function readScalar(c: Cursor, type: number): Promise<MetadataValue> {
  switch (type) {
    case 0:
      return c.u8()
    case 1:
      return ((await c.u8()) << 24) >> 24
    case 2:
      return c.u16()
    case 3:
      return ((await c.u16()) << 16) >> 16
    case 4:
      return c.u32()
    case 5:
      return c.i32()
    case 6:
      return metadataNumber(await c.f32())
    case 7:
      return (await c.u8()) !== 0
    case 10:
      return metadataNumber(await c.u64())
    case 11:
      return metadataNumber(await c.i64())
    case 12:
      return metadataNumber(await c.f64())
    default:
      throw badFormat(c.source.path, `GGUF value type ${type} is unknown`)
  }
}

async function hashRange(c: Cursor, start: number, end: number): Promise<string> {
  const hash = createHash('sha256')
  for (let at = start; at < end; at += 1 << 20)
    hash.update(await c.source.read(at, Math.min(1 << 20, end - at)))
  return hash.digest('hex')
}

async function readValue(c: Cursor, type: number, depth: number): Promise<MetadataValue> {
  if (type === T_STRING) {
    const start = c.pos
    const s = await readString(c, 'GGUF string', MAX_STRING)
    if (typeof s === 'string') return s
    return { type: 'STRING', length: s.length, sha256: await hashRange(c, start + 8, c.pos) }
  }
  if (type !== T_ARRAY) return readScalar(c, type)
  if (depth > 4) throw badFormat(c.source.path, 'GGUF arrays nest too deeply')
  const itemType = await c.u32()
  const count = checkCount(c.source.path, 'GGUF array length', await c.u64())
  const itemName = VALUE_TYPES[itemType]
  const itemSize = FIXED_SIZE[itemType]
  if (itemName === undefined || itemSize === undefined)
    throw badFormat(c.source.path, `GGUF array item type ${itemType} is unknown`)
  if (count * itemSize > c.end - c.pos) {
    throw badFormat(c.source.path, `a GGUF array of ${count} ${itemName} cannot fit in the file`)
  }
  const start = c.pos
  const items: MetadataValue[] = []
  for (let i = 0; i < count; i++) {
    if (itemType === T_STRING || itemType === T_ARRAY || count <= MAX_ARRAY) {
      const v = await readValue(c, itemType, depth + 1)
      if (count <= MAX_ARRAY) items.push(v)
    } else {
      c.skip((count - i) * itemSize)
      break
    }
  }
  if (count <= MAX_ARRAY) return items
  return { type: 'ARRAY', items: itemName, length: count, sha256: await hashRange(c, start, c.pos) }
}

async function readTensorInfo(
  c: Cursor,
): Promise<{ name: string; dims: number[]; type: number; offset: number }> {
  const path = c.source.path
  const name = await readKey(c)
  const rank = await c.u32()
  if (rank > MAX_DIMS)
    throw badFormat(path, `GGUF tensor ${name} has ${rank} dimensions (ggml allows ${MAX_DIMS})`)
  const dims: number[] = []
  for (let k = 0; k < rank; k++)
    dims.push(checkCount(path, `tensor ${name} dimension`, await c.u64()))
  const type = await c.u32()
  const offset = checkCount(path, `tensor ${name} offset`, await c.u64())
  return { name, dims, type, offset }
}

function alignmentOf(path: string, kv: Map<string, MetadataValue>): number {
  const a = kv.get('general.alignment')
  if (a === undefined) return DEFAULT_ALIGNMENT
  if (typeof a !== 'number' || a < 1 || a > 1 << 30 || (a & (a - 1)) !== 0) {
    throw badFormat(path, `general.alignment ${JSON.stringify(a)} is not a power of two`)
  }
  return a
}

export async function readGgufLayout(src: ByteSource): Promise<CheckpointLayout> {
  const c = createCursor(src, { start: 0, end: src.size }, 'GGUF header')
  const header = await readHeader(c)
  const kv = new Map<string, MetadataValue>()
  for (let i = 0; i < header.kvCount; i++) {
    const key = await readKey(c)
    // ggml and the gguf Python package refuse a key given twice; a map would keep the last.
    if (kv.has(key)) throw badFormat(src.path, `the GGUF key ${JSON.stringify(key)} is given twice`)
    kv.set(key, await readValue(c, await c.u32(), 0))
  }
  const infos = []
  for (let i = 0; i < header.tensorCount; i++) infos.push(await readTensorInfo(c))
  const alignment = alignmentOf(src.path, kv)
  const dataStart = Math.ceil(c.pos / alignment) * alignment
  const tensors = infos.map((info): TensorLayout => {
    const what = `tensor ${info.name}`
    const t = ggmlType(info.type)
    if (!t)
      throw badFormat(src.path, `${what} has ggml type ${info.type}, which mlvc does not know`)
    const numel = elementCount(src.path, what, info.dims)
    if ((info.dims[0] ?? 1) % t.blockElements !== 0) {
      throw badFormat(
        src.path,
        `${what}: its first dimension ${info.dims[0]} is not a multiple of the ${t.name} block (${t.blockElements})`,
      )
    }
    if (info.offset % alignment !== 0)
      throw badFormat(src.path, `${what}: offset ${info.offset} is not aligned to ${alignment}`)
    const nbytes = (numel / t.blockElements) * t.blockBytes
    const start = dataStart + info.offset
    if (start + nbytes > src.size) {
      throw badFormat(
        src.path,
        `${what}: ${nbytes} bytes at ${start} run past the end of the file (${src.size} bytes)`,
      )
    }
    return {
      name: info.name,
      dtype: t.name,
      shape: info.dims.toReversed(),
      start,
      end: start + nbytes,
      encoding:
        t.blockElements > 1
          ? { kind: 'blocks', blockElements: t.blockElements, blockBytes: t.blockBytes }
          : { kind: 'dense', byteOrder: 'little', order: 'C' },
      nbytes,
    }
  })
  checkUniqueNames(src.path, tensors)
  checkDisjointTensors(src.path, tensors)
  return {
    format: 'gguf',
    size: src.size,
    metadata: sortedRecord(kv),
    tensors,
    segments: buildSegments(src.path, src.size, tensors),
  }
}
