/** Test-only writers for crafted inputs: pickles, zips, safetensors, .npy, torch archives. */
import { crc32, deflateRawSync } from 'node:zlib'

// ------------------------------------------------------------------ pickle

export type Plain =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Plain[]
  | { tuple: Plain[] }
  | { dict: Array<[string, Plain]> }

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

function longBytes(n: bigint): Buffer {
  const out: number[] = []
  let v = n
  for (;;) {
    out.push(Number(v & 0xffn))
    v >>= 8n
    const sign = (out[out.length - 1] as number) & 0x80
    if ((v === 0n && !sign) || (v === -1n && sign)) break
  }
  return Buffer.from(out)
}

/** A pickle of `value` using protocol 2 opcodes, plus protocol 3/4 ones when `protocol` ≥ 4. */
export function pickle(value: Plain, protocol: 2 | 4 = 2): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, protocol])]
  const op = (...bytes: number[]) => parts.push(Buffer.from(bytes))
  const emit = (v: Plain): void => {
    if (v === null) op(0x4e)
    else if (v === true) op(0x88)
    else if (v === false) op(0x89)
    else if (
      typeof v === 'number' &&
      Number.isInteger(v) &&
      !Object.is(v, -0) &&
      Math.abs(v) < 2 ** 31
    ) {
      op(0x4a)
      const b = Buffer.alloc(4)
      b.writeInt32LE(v)
      parts.push(b)
    } else if (typeof v === 'number') {
      op(0x47)
      const b = Buffer.alloc(8)
      b.writeDoubleBE(v)
      parts.push(b)
    } else if (typeof v === 'bigint') {
      const b = longBytes(v)
      op(0x8a, b.length)
      parts.push(b)
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8')
      if (protocol >= 4 && b.length < 256) op(0x8c, b.length)
      else parts.push(Buffer.from([0x58]), u32(b.length))
      parts.push(b)
    } else if (v instanceof Uint8Array) {
      parts.push(Buffer.from([0x42]), u32(v.length), Buffer.from(v))
    } else if (Array.isArray(v)) {
      op(0x5d)
      if (protocol >= 4) op(0x94)
      op(0x28)
      v.forEach(emit)
      op(0x65)
    } else if ('tuple' in v) {
      op(0x28)
      v.tuple.forEach(emit)
      op(0x74)
    } else {
      op(0x7d)
      op(0x28)
      for (const [k, x] of v.dict) {
        emit(k)
        emit(x)
      }
      op(0x75)
    }
  }
  emit(value)
  op(0x2e)
  return Buffer.concat(parts)
}

/** GLOBAL module\nname\n as protocol 0–2 write it. */
export function globalOp(module: string, name: string): Buffer {
  return Buffer.concat([Buffer.from([0x63]), Buffer.from(`${module}\n${name}\n`, 'latin1')])
}

/** A pickle that calls `module.name(arg)`: what a malicious __reduce__ produces. */
export function callPickle(module: string, name: string, arg: string): Buffer {
  const a = Buffer.from(arg)
  return Buffer.concat([
    Buffer.from([0x80, 0x02]),
    globalOp(module, name),
    Buffer.from([0x58]),
    u32(a.length),
    a,
    Buffer.from([0x85, 0x52, 0x2e]),
  ])
}

// ------------------------------------------------------------------ zip

export interface ZipInput {
  name: string
  data: Uint8Array
  method?: 0 | 8
  /** Write CRC and sizes in a data descriptor (flag bit 3) instead of the local header. */
  descriptor?: boolean
  /** The CRC-32 recorded everywhere, instead of the data's. */
  crc?: number
}

export interface ZipOptions {
  /** zip64 extras in local and central records, and zip64 end records. */
  zip64?: boolean
  comment?: string
  /** Bytes before the first entry (as in self-extracting archives). */
  prefix?: Uint8Array
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(n)
  return b
}

export function buildZip(entries: ZipInput[], options: ZipOptions = {}): Buffer {
  const z64 = options.zip64 === true
  const parts: Buffer[] = []
  let pos = 0
  const push = (b: Buffer) => {
    parts.push(b)
    pos += b.length
  }
  if (options.prefix) push(Buffer.from(options.prefix))
  const records: Buffer[] = []
  for (const e of entries) {
    const method = e.method ?? 0
    const data = method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data)
    const crc = e.crc ?? crc32(e.data)
    const name = Buffer.from(e.name)
    const flags = (e.descriptor ? 8 : 0) | 0x800
    const offset = pos
    const sizes32 = z64 ? [0xffffffff, 0xffffffff] : [data.length, e.data.length]
    const localExtra = z64
      ? Buffer.concat([u16(1), u16(16), u64(e.data.length), u64(data.length)])
      : Buffer.alloc(0)
    push(
      Buffer.concat([
        u32(0x04034b50),
        u16(45),
        u16(flags),
        u16(method),
        u32(0),
        u32(e.descriptor ? 0 : crc),
        u32(e.descriptor && !z64 ? 0 : (sizes32[0] as number)),
        u32(e.descriptor && !z64 ? 0 : (sizes32[1] as number)),
        u16(name.length),
        u16(localExtra.length),
        name,
        localExtra,
      ]),
    )
    push(data)
    if (e.descriptor) {
      push(
        Buffer.concat([
          u32(0x08074b50),
          u32(crc),
          ...(z64
            ? [u64(data.length), u64(e.data.length)]
            : [u32(data.length), u32(e.data.length)]),
        ]),
      )
    }
    const cdExtra = z64
      ? Buffer.concat([u16(1), u16(24), u64(e.data.length), u64(data.length), u64(offset)])
      : Buffer.alloc(0)
    records.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(45),
        u16(45),
        u16(flags),
        u16(method),
        u32(0),
        u32(crc),
        u32(sizes32[0] as number),
        u32(sizes32[1] as number),
        u16(name.length),
        u16(cdExtra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(z64 ? 0xffffffff : offset),
        name,
        cdExtra,
      ]),
    )
  }
  const cdStart = pos
  for (const r of records) push(r)
  const cdSize = pos - cdStart
  if (z64) {
    const eocd64 = pos
    push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(entries.length),
        u64(entries.length),
        u64(cdSize),
        u64(cdStart),
      ]),
    )
    push(Buffer.concat([u32(0x07064b50), u32(0), u64(eocd64), u32(1)]))
  }
  const comment = Buffer.from(options.comment ?? '')
  push(
    Buffer.concat([
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(z64 ? 0xffff : entries.length),
      u16(z64 ? 0xffff : entries.length),
      u32(z64 ? 0xffffffff : cdSize),
      u32(z64 ? 0xffffffff : cdStart),
      u16(comment.length),
      comment,
    ]),
  )
  return Buffer.concat(parts)
}

// ------------------------------------------------------------------ safetensors, npy

export interface SafetensorsInput {
  name: string
  dtype: string
  shape: number[]
  data: Uint8Array
}

export function buildSafetensors(
  tensors: SafetensorsInput[],
  metadata?: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {}
  let offset = 0
  for (const t of tensors) {
    // defineProperty: a tensor named __proto__ must be a key, not the prototype
    Object.defineProperty(header, t.name, {
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] },
      enumerable: true,
    })
    offset += t.data.length
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  return Buffer.concat([
    u64(Buffer.byteLength(json)),
    Buffer.from(json),
    ...tensors.map((t) => Buffer.from(t.data)),
  ])
}

export interface NpyInput {
  descr: string
  fortran: boolean
  shape: number[]
  data: Uint8Array
  version?: 1 | 2 | 3
}

export function buildNpy(input: NpyInput): Buffer {
  const version = input.version ?? 1
  const shape = input.shape.length === 1 ? `(${input.shape[0]},)` : `(${input.shape.join(', ')})`
  let text = `{'descr': '${input.descr}', 'fortran_order': ${input.fortran ? 'True' : 'False'}, 'shape': ${shape}, }`
  const prelude = version === 1 ? 10 : 12
  text += ' '.repeat(63 - ((prelude + text.length) % 64))
  text += '\n'
  const length = version === 1 ? u16(text.length) : u32(text.length)
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]),
    length,
    Buffer.from(text, 'latin1'),
    Buffer.from(input.data),
  ])
}

/** A torch-style zip: `<prefix>/data.pkl`, `<prefix>/byteorder`, storages `<prefix>/data/<key>`. */
export function buildTorchZip(
  pkl: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: { byteorder?: string; extra?: ZipInput[] } = {},
): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/byteorder', data: Buffer.from(options.byteorder ?? 'little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
    ...(options.extra ?? []),
  ])
}

export interface TorchTensorSpec {
  name: string
  key: string
  storage?: string
  numel: number
  offset?: number
  shape: number[]
  strides: number[]
}

function tensorOps(t: TorchTensorSpec): Buffer {
  const parts: Buffer[] = []
  const str = (s: string) =>
    parts.push(Buffer.from([0x58]), u32(Buffer.byteLength(s)), Buffer.from(s))
  const int = (n: number) => {
    const b = Buffer.alloc(5)
    b[0] = 0x4a
    b.writeInt32LE(n, 1)
    parts.push(b)
  }
  const tuple = (ns: number[]) => {
    parts.push(Buffer.from([0x28]))
    ns.forEach(int)
    parts.push(Buffer.from([0x74]))
  }
  parts.push(globalOp('torch._utils', '_rebuild_tensor_v2'), Buffer.from([0x28, 0x28]))
  str('storage')
  parts.push(globalOp('torch', t.storage ?? 'FloatStorage'))
  str(t.key)
  str('cpu')
  int(t.numel)
  parts.push(Buffer.from([0x74, 0x51]))
  int(t.offset ?? 0)
  tuple(t.shape)
  tuple(t.strides)
  parts.push(
    Buffer.from([0x89]),
    globalOp('collections', 'OrderedDict'),
    Buffer.from([0x29, 0x52, 0x74, 0x52]),
  )
  return Buffer.concat(parts)
}

/** The data.pkl torch.save writes for a flat state dict of plain tensors (protocol 2). */
export function torchStatePickle(tensors: TorchTensorSpec[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 0x02, 0x7d, 0x28])]
  for (const t of tensors) {
    const name = Buffer.from(t.name)
    parts.push(Buffer.from([0x58]), u32(name.length), name, tensorOps(t))
  }
  parts.push(Buffer.from([0x75, 0x2e]))
  return Buffer.concat(parts)
}

/** The data.pkl of torch.save(tensor). */
export function torchTensorPickle(t: TorchTensorSpec): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x02]), tensorOps(t), Buffer.from([0x2e])])
}

// ------------------------------------------------------------------ onnx

function protoVarint(v: number): Buffer {
  const out: number[] = []
  let n = v
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Buffer.from(out)
}

const protoLen = (field: number, payload: Uint8Array) =>
  Buffer.concat([protoVarint(field * 8 + 2), protoVarint(payload.length), payload])
const protoInt = (field: number, v: number) =>
  Buffer.concat([protoVarint(field * 8), protoVarint(v)])

export interface OnnxTensorInput {
  name: string
  dims: number[]
  /** F32 raw_data in the model file. */
  data?: Uint8Array
  /** Data in an external file, relative to the model's folder. */
  external?: { location: string; offset?: number; length?: number }
}

/** An ONNX ModelProto (ir_version 8) whose graph has these F32 initializers. */
export function buildOnnx(tensors: OnnxTensorInput[]): Buffer {
  const entry = (k: string, v: string) =>
    protoLen(13, Buffer.concat([protoLen(1, Buffer.from(k)), protoLen(2, Buffer.from(v))]))
  const initializers = tensors.map((t) => {
    const ext = t.external
    return protoLen(
      5,
      Buffer.concat([
        ...t.dims.map((d) => protoInt(1, d)),
        protoInt(2, 1),
        protoLen(8, Buffer.from(t.name)),
        ...(t.data ? [protoLen(9, t.data)] : []),
        ...(ext
          ? [
              entry('location', ext.location),
              ...(ext.offset !== undefined ? [entry('offset', String(ext.offset))] : []),
              ...(ext.length !== undefined ? [entry('length', String(ext.length))] : []),
              protoInt(14, 1),
            ]
          : []),
      ]),
    )
  })
  return Buffer.concat([
    protoInt(1, 8),
    protoLen(7, Buffer.concat([protoLen(2, Buffer.from('g')), ...initializers])),
  ])
}

/** An ONNX model whose one F32 initializer keeps all its data in the external file `location`. */
export function buildExternalOnnx(name: string, dims: number[], location: string): Buffer {
  return buildOnnx([{ name, dims, external: { location } }])
}
