import { badFormat, elementCount } from './bad-format.ts'
import { type DType, dtypeSize } from './dtype.ts'
import type { ByteOrder } from './layout.ts'
import { type PyLiteral, parsePyLiteral } from './py-literal.ts'

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])

/** Larger headers are refused (numpy itself refuses more than 10 000 bytes by default). */
export const NPY_MAX_HEADER = 1 << 20

export interface NpyHeader {
  version: 1 | 2 | 3
  /** Bytes before the data: magic, version, length field, header text. */
  headerLength: number
  dtype: DType
  byteOrder: ByteOrder
  order: 'C' | 'F'
  shape: number[]
  nbytes: number
}

const KINDS: Record<string, DType> = {
  b1: 'BOOL',
  i1: 'I8',
  i2: 'I16',
  i4: 'I32',
  i8: 'I64',
  u1: 'U8',
  u2: 'U16',
  u4: 'U32',
  u8: 'U64',
  f2: 'F16',
  f4: 'F32',
  f8: 'F64',
}

export function hasNpyMagic(head: Uint8Array): boolean {
  return head.length >= 8 && NPY_MAGIC.every((b, i) => head[i] === b)
}

/** Bytes of the prelude (magic, version, length) and the header length they announce. */
export function npyPrelude(
  file: string,
  what: string,
  head: Uint8Array,
): { version: 1 | 2 | 3; headerLength: number } {
  if (!hasNpyMagic(head)) throw badFormat(file, `${what} does not start with the .npy magic`)
  const major = head[6]
  if (major !== 1 && major !== 2 && major !== 3)
    throw badFormat(file, `${what}: .npy version ${major} is unknown`)
  const view = new DataView(head.buffer, head.byteOffset, head.length)
  const prelude = major === 1 ? 10 : 12
  if (head.length < prelude) throw badFormat(file, `${what} is truncated`)
  const textLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  if (textLength > NPY_MAX_HEADER)
    throw badFormat(file, `${what}: .npy header of ${textLength} bytes is too large`)
  return { version: major, headerLength: prelude + textLength }
}

const KEYS = ['descr', 'fortran_order', 'shape']

function field(dict: Array<[PyLiteral, PyLiteral]>, key: string): PyLiteral | undefined {
  return dict.find(([k]) => k === key)?.[1]
}

/**
 * NumPy requires exactly these three keys. A key given twice is malformed here: Python keeps the
 * last value, so a reader keeping the first would see another array.
 */
function checkKeys(file: string, what: string, dict: Array<[PyLiteral, PyLiteral]>): void {
  const seen = new Set<PyLiteral>()
  for (const [key] of dict) {
    if (seen.has(key))
      throw badFormat(file, `${what}: the .npy header gives ${JSON.stringify(key)} twice`)
    seen.add(key)
  }
  if (seen.size !== KEYS.length || !KEYS.every((k) => seen.has(k))) {
    throw badFormat(
      file,
      `${what}: the .npy header's keys are ${JSON.stringify([...seen])}; NumPy requires exactly descr, fortran_order and shape`,
    )
  }
}

function parseDescr(
  file: string,
  what: string,
  descr: PyLiteral | undefined,
): { dtype: DType; byteOrder: ByteOrder } {
  const [, order, kind] = (typeof descr === 'string' && /^([<>|=]?)([a-z]\d+)$/.exec(descr)) || []
  const dtype = kind === undefined ? undefined : KINDS[kind]
  if (!dtype) {
    throw badFormat(file, `${what} has dtype ${JSON.stringify(descr)}, which mlvc does not read`)
  }
  return { dtype, byteOrder: order === '>' && dtypeSize(dtype) > 1 ? 'big' : 'little' }
}

/** Parses the header, given at least `npyPrelude(...).headerLength` bytes of the start. */
export function parseNpyHeader(file: string, what: string, head: Uint8Array): NpyHeader {
  const { version, headerLength } = npyPrelude(file, what, head)
  if (head.length < headerLength) throw badFormat(file, `${what}: the .npy header is truncated`)
  const prelude = version === 1 ? 10 : 12
  let literal: PyLiteral
  try {
    const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(
      head.subarray(prelude, headerLength),
    )
    literal = parsePyLiteral(text)
  } catch (err) {
    throw badFormat(file, `${what}: the .npy header is not a Python dict literal`, err)
  }
  if (literal === null || typeof literal !== 'object' || Array.isArray(literal)) {
    throw badFormat(file, `${what}: the .npy header is not a dict`)
  }
  checkKeys(file, what, literal.dict)
  const { dtype, byteOrder } = parseDescr(file, what, field(literal.dict, 'descr'))
  const fortran = field(literal.dict, 'fortran_order')
  const shape = field(literal.dict, 'shape')
  if (typeof fortran !== 'boolean')
    throw badFormat(file, `${what}: fortran_order is not True or False`)
  if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === 'number' && d >= 0)) {
    throw badFormat(file, `${what}: shape is not a tuple of sizes`)
  }
  const dims = shape
  return {
    version,
    headerLength,
    dtype,
    byteOrder,
    order: fortran ? 'F' : 'C',
    shape: dims,
    nbytes: elementCount(file, what, dims) * dtypeSize(dtype),
  }
}

/** Reads the header through `readPrefix(n)`, which returns the first n bytes (or fewer at the end). */
export async function readNpyHeader(
  file: string,
  what: string,
  readPrefix: (n: number) => Promise<Uint8Array>,
): Promise<NpyHeader> {
  const head = await readPrefix(12)
  if (head.length < 10) throw badFormat(file, `${what} is too short for a .npy header`)
  const { headerLength } = npyPrelude(file, what, head)
  return parseNpyHeader(file, what, await readPrefix(headerLength))
}
