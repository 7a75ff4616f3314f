import { badFormat, checkCount, elementCount } from './bad-format.ts'
import { createCursor } from './cursor.ts'
import { type DType, dtypeSize } from './dtype.ts'
import { checkLocation } from './external.ts'
import type { TensorLayout } from './layout.ts'
import { type Field, nextField, skipField, WIRE_LEN, WIRE_VARINT } from './protobuf.ts'
import type { ByteSource } from './source.ts'

/** TensorProto.DataType values mlvc reads. */
const ONNX_DTYPES: Record<number, DType> = {
  1: 'F32',
  2: 'U8',
  3: 'I8',
  4: 'U16',
  5: 'I16',
  6: 'I32',
  7: 'I64',
  9: 'BOOL',
  10: 'F16',
  11: 'F64',
  12: 'U32',
  13: 'U64',
  16: 'BF16',
  17: 'F8_E4M3',
  19: 'F8_E5M2',
}

const OTHER_TYPES: Record<number, string> = {
  8: 'STRING',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  18: 'FLOAT8E4M3FNUZ',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
  23: 'FLOAT4E2M1',
  24: 'FLOAT8E8M0',
  25: 'UINT2',
  26: 'INT2',
}

/** Typed data fields and the element types each may hold (onnx.proto comments). */
const TYPED_FIELDS: Record<number, { field: string; dtypes: DType[]; varint: boolean }> = {
  4: { field: 'float_data', dtypes: ['F32'], varint: false },
  5: {
    field: 'int32_data',
    dtypes: ['I32', 'I16', 'I8', 'U16', 'U8', 'BOOL', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2'],
    varint: true,
  },
  7: { field: 'int64_data', dtypes: ['I64'], varint: true },
  10: { field: 'double_data', dtypes: ['F64'], varint: false },
  11: { field: 'uint64_data', dtypes: ['U32', 'U64'], varint: true },
}
const RAW_DATA = 9

export interface ParsedTensor {
  name: string
  dims: number[]
  dataType: number
  /** The field holding in-file data: raw_data or one packed typed field. */
  data: Field | undefined
  external: { location: string; offset: number; length: number | undefined } | undefined
  /** The initializer field in the graph. */
  field: Field
}

async function readText(src: ByteSource, f: Field): Promise<string> {
  return new TextDecoder().decode(await src.read(f.start, Math.min(f.end - f.start, 65536)))
}

async function readEntry(src: ByteSource, f: Field): Promise<[string, string]> {
  const c = createCursor(src, f, 'external_data entry')
  let key = ''
  let value = ''
  while (c.pos < c.end) {
    const g = await nextField(c, 'external_data entry')
    if (g.wire === WIRE_LEN && g.number === 1) key = await readText(src, g)
    if (g.wire === WIRE_LEN && g.number === 2) value = await readText(src, g)
    await skipField(c, g)
  }
  return [key, value]
}

function parseExternal(
  path: string,
  name: string,
  entries: Array<[string, string]>,
): ParsedTensor['external'] {
  // onnx keeps the last value of a key given twice (ExternalDataInfo sets attributes in turn).
  const seen = new Set<string>()
  for (const [key] of entries) {
    if (seen.has(key))
      throw badFormat(path, `tensor ${name}: external data gives ${JSON.stringify(key)} twice`)
    seen.add(key)
  }
  const get = (k: string) => entries.find(([key]) => key === k)?.[1]
  const location = get('location')
  if (location === undefined)
    throw badFormat(path, `tensor ${name}: external data without a location`)
  checkLocation(path, name, location)
  const number = (k: string) => {
    const v = get(k)
    if (v === undefined) return undefined
    if (!/^\d+$/.test(v))
      throw badFormat(
        path,
        `tensor ${name}: external data ${k} ${JSON.stringify(v)} is not a number`,
      )
    return checkCount(path, `tensor ${name} external ${k}`, Number(v))
  }
  return { location, offset: number('offset') ?? 0, length: number('length') }
}

export async function readTensorProto(
  src: ByteSource,
  proto: Field,
  index: number,
): Promise<Omit<ParsedTensor, 'field'>> {
  const region = `initializer ${index}`
  const c = createCursor(src, proto, region)
  const out: Omit<ParsedTensor, 'field'> = {
    name: '',
    dims: [],
    dataType: 0,
    data: undefined,
    external: undefined,
  }
  const entries: Array<[string, string]> = []
  let location = 0
  while (c.pos < c.end) {
    const f = await nextField(c, region)
    if (f.number === 1 && f.wire === WIRE_VARINT) {
      out.dims.push(checkCount(src.path, `${region} dimension`, await c.varint()))
      continue
    }
    if (f.number === 1 && f.wire === WIRE_LEN) {
      const dims = createCursor(src, f, `${region} dims`)
      while (dims.pos < dims.end)
        out.dims.push(checkCount(src.path, `${region} dimension`, await dims.varint()))
    } else if ((f.number === 2 || f.number === 14) && f.wire === WIRE_VARINT) {
      const v = checkCount(src.path, `${region} enum`, await c.varint())
      if (f.number === 2) out.dataType = v
      else location = v
      continue
    } else if (f.number === 3) {
      throw badFormat(src.path, `${region}: segmented tensors are not read`)
    } else if (f.number === 8 && f.wire === WIRE_LEN) {
      out.name = await readText(src, f)
    } else if (f.number === 13 && f.wire === WIRE_LEN) {
      entries.push(await readEntry(src, f))
    } else if (f.number === RAW_DATA || f.number in TYPED_FIELDS) {
      if (f.wire !== WIRE_LEN)
        throw badFormat(src.path, `${region}: unpacked repeated data is not read`)
      if (out.data) throw badFormat(src.path, `${region}: its data is split over several fields`)
      out.data = f
    }
    await skipField(c, f)
  }
  if (location === 1) out.external = parseExternal(src.path, out.name, entries)
  return out
}

/** Number of varints in [start, end), which must end on a varint's last byte. */
async function countVarints(src: ByteSource, start: number, end: number): Promise<number> {
  let count = 0
  let last = 0
  for (let at = start; at < end; at += 1 << 20) {
    const block = await src.read(at, Math.min(1 << 20, end - at))
    for (const b of block) {
      if (b < 0x80) count++
      last = b
    }
  }
  return last < 0x80 ? count : -1
}

/** The layout of a parsed initializer; `externalSize` is the external file's size, if any. */
export async function onnxTensorLayout(
  src: ByteSource,
  t: ParsedTensor,
  externalSize: number | undefined,
): Promise<TensorLayout> {
  const what = `tensor ${t.name}`
  const dtype = ONNX_DTYPES[t.dataType]
  if (!dtype) {
    throw badFormat(
      src.path,
      `${what} has ONNX type ${OTHER_TYPES[t.dataType] ?? t.dataType}, which mlvc does not read`,
    )
  }
  const numel = elementCount(src.path, what, t.dims)
  const nbytes = numel * dtypeSize(dtype)
  const base = { name: t.name, dtype, shape: t.dims, nbytes }
  const dense = { kind: 'dense', byteOrder: 'little', order: 'C' } as const
  if (t.external) {
    if (t.data) throw badFormat(src.path, `${what} has both external and in-file data`)
    const size = externalSize ?? 0
    const length = t.external.length ?? size - t.external.offset
    if (length !== nbytes || t.external.offset + length > size) {
      throw badFormat(
        src.path,
        `${what}: external data [${t.external.offset}, +${length}) in ${t.external.location} (${size} bytes) does not hold its ${nbytes} bytes`,
      )
    }
    return {
      ...base,
      start: t.external.offset,
      end: t.external.offset + length,
      encoding: dense,
      file: t.external.location,
    }
  }
  if (!t.data) {
    if (numel > 0) throw badFormat(src.path, `${what} holds no data`)
    return { ...base, start: t.field.start, end: t.field.start, encoding: dense }
  }
  const { start, end, number } = t.data
  const typed = TYPED_FIELDS[number]
  if (typed && !typed.dtypes.includes(dtype))
    throw badFormat(src.path, `${what}: ${typed.field} cannot hold ${dtype}`)
  if (typed?.varint) {
    const count = start === end ? 0 : await countVarints(src, start, end)
    if (count !== numel)
      throw badFormat(
        src.path,
        `${what}: ${typed.field} holds ${count} values, its shape needs ${numel}`,
      )
    return { ...base, start, end, encoding: { kind: 'varint' } }
  }
  if (end - start !== nbytes) {
    throw badFormat(
      src.path,
      `${what}: ${typed?.field ?? 'raw_data'} holds ${end - start} bytes, its ${dtype} shape [${t.dims}] needs ${nbytes}`,
    )
  }
  return { ...base, start, end, encoding: dense }
}
