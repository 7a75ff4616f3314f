import { isUtf8 } from 'node:buffer'
import { badFormat, checkCount, elementCount } from './bad-format.ts'
import { dtypeSize, isDType } from './dtype.ts'
import { findDuplicateKey } from './json-keys.ts'
import type { CheckpointLayout, MetadataValue, TensorEncoding, TensorLayout } from './layout.ts'
import { sortedRecord } from './metadata.ts'
import { scanSafetensorsHeader } from './safetensors-scan.ts'
import { buildSegments, checkDisjointTensors, checkUniqueNames } from './segments.ts'
import type { ByteSource } from './source.ts'

/** The safetensors library refuses larger headers (MAX_HEADER_SIZE). */
export const SAFETENSORS_MAX_HEADER = 100_000_000

/**
 * True when the first bytes look like safetensors: a little-endian length, then the start of a JSON
 * object. The length is not checked here, so that a file whose length field is damaged gets a
 * message about that rather than "unknown format".
 */
export function sniffSafetensors(head: Uint8Array): boolean {
  const next = head[9]
  return head[8] === 0x7b && next !== undefined && [0x22, 0x7d, 0x20, 0x0a].includes(next)
}

function readU64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The header's JSON bytes, after its length is checked. */
async function readHeaderBytes(src: ByteSource): Promise<{ bytes: Buffer; dataStart: number }> {
  if (src.size < 8)
    throw badFormat(src.path, `${src.size} bytes is too short for a safetensors header`)
  const n = readU64(await src.read(0, 8))
  if (n > BigInt(src.size - 8)) {
    throw badFormat(src.path, `header length ${n} exceeds file size ${src.size}`)
  }
  if (n > SAFETENSORS_MAX_HEADER) {
    throw badFormat(
      src.path,
      `header length ${n} exceeds the safetensors limit of ${SAFETENSORS_MAX_HEADER}`,
    )
  }
  const read = await src.read(8, Number(n))
  return { bytes: Buffer.from(read.buffer, read.byteOffset, read.length), dataStart: 8 + Number(n) }
}

/** The header parsed the general way: any JSON, with the messages for what is wrong in it. */
function parseHeader(path: string, bytes: Uint8Array): Record<string, unknown> {
  let header: unknown
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    header = JSON.parse(text)
  } catch (err) {
    throw badFormat(path, 'the safetensors header is not valid UTF-8 JSON', err)
  }
  if (!isRecord(header)) throw badFormat(path, 'the safetensors header is not a JSON object')
  // JSON.parse keeps the last of two equal keys; the safetensors library refuses some duplicates
  // and keeps the last of others: either way, a header with one is malformed.
  const duplicate = findDuplicateKey(text, header)
  if (duplicate) {
    throw badFormat(
      path,
      `the safetensors header gives ${duplicate.map((k) => JSON.stringify(k)).join(' → ')} twice`,
    )
  }
  return header
}

function parseMetadata(path: string, raw: unknown): Record<string, MetadataValue> {
  if (raw === undefined) return {}
  if (!isRecord(raw)) throw badFormat(path, '__metadata__ is not an object')
  const entries: Array<[string, string]> = []
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw badFormat(path, `__metadata__.${k} is not a string`)
    entries.push([k, v])
  }
  return sortedRecord(entries)
}

/** Every safetensors tensor's encoding; one object shared by all (a file may list 200,000). */
const DENSE: TensorEncoding = Object.freeze({ kind: 'dense', byteOrder: 'little', order: 'C' })

const isSize = (d: unknown): d is number =>
  Number.isSafeInteger(d) && typeof d === 'number' && d >= 0

function parseTensor(
  path: string,
  [name, raw]: [string, unknown],
  dataStart: number,
): TensorLayout {
  const what = `tensor ${name}`
  if (!isRecord(raw)) throw badFormat(path, `${what} is not an object`)
  const { dtype, shape, data_offsets: offsets } = raw
  if (typeof dtype !== 'string' || !isDType(dtype)) {
    throw badFormat(path, `${what} has dtype ${String(dtype)}, which mlvc does not read`)
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    throw badFormat(path, `${what} has a bad shape`)
  }
  const [first, second, ...more]: unknown[] = Array.isArray(offsets) ? offsets : []
  if (typeof first !== 'number' || typeof second !== 'number' || more.length > 0)
    throw badFormat(path, `${what} has bad data_offsets`)
  const begin = checkCount(path, `${what} data offset`, first)
  const end = checkCount(path, `${what} data offset`, second)
  const nbytes = elementCount(path, what, shape) * dtypeSize(dtype)
  if (end - begin !== nbytes) {
    throw badFormat(
      path,
      `${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, its ${dtype} shape [${shape}] needs ${nbytes}`,
    )
  }
  return {
    name,
    dtype,
    shape,
    start: dataStart + begin,
    end: dataStart + end,
    encoding: DENSE,
    nbytes,
  }
}

/**
 * The tensors of a header, from the bytes directly when they have the plain shape writers give
 * (safetensors-scan.ts), else parsed the general way; either way in JSON.parse's order.
 */
function headerTensors(
  path: string,
  bytes: Buffer,
  dataStart: number,
): { tensors: TensorLayout[]; metadata: unknown } {
  // A scanned header has no duplicate key and lists the tensors in the general path's order: a
  // tensor it cannot take is the same first problem either way.
  const scanned = isUtf8(bytes) ? scanSafetensorsHeader(bytes) : undefined
  if (scanned) {
    const tensors = scanned.tensors.map((entry) => parseTensor(path, entry, dataStart))
    return { tensors, metadata: scanned.metadata }
  }
  const header = parseHeader(path, bytes)
  const tensors = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map((entry) => parseTensor(path, entry, dataStart))
  return { tensors, metadata: header.__metadata__ }
}

export async function readSafetensorsLayout(src: ByteSource): Promise<CheckpointLayout> {
  const { bytes, dataStart } = await readHeaderBytes(src)
  const { tensors, metadata } = headerTensors(src.path, bytes, dataStart)
  checkDisjointTensors(src.path, tensors)
  for (const t of tensors) {
    if (t.end > src.size) {
      throw badFormat(
        src.path,
        `tensor ${t.name} ends at ${t.end}, past the end of the file (${src.size} bytes)`,
      )
    }
  }
  checkUniqueNames(src.path, tensors)
  return {
    format: 'safetensors',
    size: src.size,
    metadata: parseMetadata(src.path, metadata),
    tensors,
    segments: buildSegments(src.path, src.size, tensors),
  }
}
