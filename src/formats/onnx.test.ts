import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { type DType, dtypeSize } from './dtype.ts'
import { detectFormat, readLayout } from './index.ts'
import { encodeVarint } from './protobuf.ts'
import { bufferSource } from './source.ts'
import { buildExternalOnnx } from './test-helpers/builders.ts'
import { checkLayout, expectBadFormat, tensorBytes, tensorNamed } from './test-helpers/fixtures.ts'
import { decodeVarints, encodeVarints } from './varint.ts'

const dir = tempDir('mlvc-onnx')
let n = 0

function file(bytes: Uint8Array): string {
  const path = join(dir, `m${n++}.onnx`)
  writeFileSync(path, bytes)
  return path
}

const varintField = (num: number, v: number | bigint) =>
  Buffer.concat([encodeVarint(BigInt(num * 8)), encodeVarint(BigInt(v))])
const lenField = (num: number, payload: Uint8Array) =>
  Buffer.concat([encodeVarint(BigInt(num * 8 + 2)), encodeVarint(BigInt(payload.length)), payload])

/** ModelProto { ir_version: 8, graph { initializer: tensors } } */
function model(...tensors: Buffer[]): Buffer {
  return Buffer.concat([
    varintField(1, 8),
    lenField(
      7,
      Buffer.concat([lenField(2, Buffer.from('g')), ...tensors.map((t) => lenField(5, t))]),
    ),
  ])
}

/** TensorProto with dims, data_type, name, and the given data fields. */
function tensor(name: string, type: number, dims: number[], ...data: Buffer[]): Buffer {
  return Buffer.concat([
    ...dims.map((d) => varintField(1, d)),
    varintField(2, type),
    lenField(8, Buffer.from(name)),
    ...data,
  ])
}

describe('onnx', () => {
  test('a hand-made model: unpacked dims, raw data, packed varints', async () => {
    const raw = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)
    const ints = Buffer.concat([encodeVarint(5n), encodeVarint(BigInt.asUintN(64, -7n))])
    const path = file(
      model(tensor('a', 1, [2, 2], lenField(9, raw)), tensor('b', 7, [2], lenField(7, ints))),
    )
    expect(await detectFormat(path)).toBe('onnx')
    const layout = await readLayout(path)
    checkLayout(layout, layout.size)
    expect((await tensorBytes(path, tensorNamed(layout, 'a'))).equals(raw)).toBe(true)
    expect(await tensorBytes(path, tensorNamed(layout, 'b'))).toEqual(
      Buffer.from(BigInt64Array.of(5n, -7n).buffer),
    )
  })

  test.each([
    [
      'raw data of the wrong size',
      tensor('w', 1, [3], lenField(9, Buffer.alloc(8))),
      /raw_data holds 8 bytes.*needs 12/,
    ],
    [
      'float_data holding int64s',
      tensor('w', 7, [1], lenField(4, Buffer.alloc(4))),
      /float_data cannot hold I64/,
    ],
    [
      'too few varints',
      tensor('w', 6, [3], lenField(5, Buffer.from([1, 2]))),
      /holds 2 values, its shape needs 3/,
    ],
    ['unpacked float_data', tensor('w', 1, [1], Buffer.from([0x25, 0, 0, 0, 0])), /unpacked/],
    ['a string tensor', tensor('w', 8, [1], lenField(6, Buffer.from('x'))), /type STRING/],
    ['no data at all', tensor('w', 1, [2]), /holds no data/],
    ['a negative dimension', tensor('w', 1, [-1], lenField(9, Buffer.alloc(0))), /out of range/],
    [
      'external data outside the folder',
      Buffer.concat([
        tensor('w', 1, [1]),
        lenField(
          13,
          Buffer.concat([
            lenField(1, Buffer.from('location')),
            lenField(2, Buffer.from('../secret')),
          ]),
        ),
        varintField(14, 1),
      ]),
      /leaves the model's folder/,
    ],
    [
      'an external data key given twice (onnx keeps the last)',
      Buffer.concat([
        tensor('w', 1, [1]),
        ...['a.data', 'b.data'].map((location) =>
          lenField(
            13,
            Buffer.concat([
              lenField(1, Buffer.from('location')),
              lenField(2, Buffer.from(location)),
            ]),
          ),
        ),
        varintField(14, 1),
      ]),
      /tensor w: external data gives "location" twice/,
    ],
  ])('%s is BAD_FORMAT naming the tensor', async (_, t, pattern) => {
    await expectBadFormat(readLayout(file(model(t))), pattern)
  })

  test.each([
    ['another protobuf', Buffer.concat([varintField(3, 1), lenField(7, Buffer.alloc(3))])],
    ['a model with trailing garbage', Buffer.concat([model(), Buffer.from([0xff])])],
    [
      'a field longer than the file',
      Buffer.concat([varintField(1, 8), Buffer.from([0x3a, 0xff, 0x7f])]),
    ],
    ['no graph', varintField(1, 8)],
  ])('%s is not detected as ONNX', async (_, bytes) => {
    expect(await detectFormat(file(bytes))).toBeUndefined()
  })
})

describe('external data and symbolic links', () => {
  const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer)

  /** A folder holding model.onnx whose tensor w (F32 [4]) lives in `location`. */
  function externalModel(location: string): { folder: string; model: string } {
    const folder = join(dir, `ext${n++}`)
    mkdirSync(folder)
    writeFileSync(join(folder, 'model.onnx'), buildExternalOnnx('w', [4], location))
    return { folder, model: join(folder, 'model.onnx') }
  }

  test('a regular file beside the model is read; the model folder itself may be a link', async () => {
    const { folder, model } = externalModel('weights/m.data')
    mkdirSync(join(folder, 'weights'))
    writeFileSync(join(folder, 'weights/m.data'), f32([1, 2, 3, 4]))
    const layout = await readLayout(model)
    expect((await tensorBytes(model, tensorNamed(layout, 'w'))).equals(f32([1, 2, 3, 4]))).toBe(
      true,
    )
    symlinkSync(folder, `${folder}-link`)
    const linked = join(`${folder}-link`, 'model.onnx')
    expect(await tensorBytes(linked, tensorNamed(await readLayout(linked), 'w'))).toEqual(
      f32([1, 2, 3, 4]),
    )
  })

  test.each([
    ['a link to a file outside the folder', 'link.data', 'outside', /symbolic link/],
    [
      'a link to a file inside the folder (onnx refuses it too)',
      'link.data',
      'inside',
      /symbolic link/,
    ],
    [
      'a linked folder leading outside',
      'd/m.data',
      'outside-folder',
      /symbolic link that leads outside/,
    ],
    ['a linked folder inside the folder', 'd/m.data', 'inside-folder', /which onnx refuses/],
  ])('%s is BAD_FORMAT, and nothing of it is read', async (_, location, how, pattern) => {
    const { folder, model } = externalModel(location)
    const outside = join(dir, `secret${n++}`)
    mkdirSync(outside)
    writeFileSync(join(outside, 'm.data'), f32([6, 6, 6, 6]))
    writeFileSync(join(folder, 'real.data'), f32([6, 6, 6, 6]))
    mkdirSync(join(folder, 'real'))
    writeFileSync(join(folder, 'real/m.data'), f32([6, 6, 6, 6]))
    if (how === 'outside') symlinkSync(join(outside, 'm.data'), join(folder, location))
    if (how === 'inside') symlinkSync('real.data', join(folder, location))
    if (how === 'outside-folder') symlinkSync(outside, join(folder, 'd'))
    if (how === 'inside-folder') symlinkSync('real', join(folder, 'd'))
    const err = await expectBadFormat(readLayout(model), pattern)
    expect(err.message).toContain(`tensor w: external data file ${location}`)
  })

  test('a link swapped in after the layout was read is caught when the tensor is read', async () => {
    const { folder, model } = externalModel('m.data')
    writeFileSync(join(folder, 'm.data'), f32([1, 2, 3, 4]))
    const layout = await readLayout(model)
    const secret = join(dir, `secret${n++}`)
    writeFileSync(secret, f32([6, 6, 6, 6]))
    rmSync(join(folder, 'm.data'))
    symlinkSync(secret, join(folder, 'm.data'))
    await expectBadFormat(tensorBytes(model, tensorNamed(layout, 'w')), /is a symbolic link/)
  })

  test('a FIFO is refused at once, not waited on', async () => {
    const { folder, model } = externalModel('m.data')
    expect(spawnSync('mkfifo', [join(folder, 'm.data')]).status).toBe(0)
    await expectBadFormat(readLayout(model), /m\.data is not a regular file/)
  })
})

describe('varint data', () => {
  const VARINT_DTYPES: DType[] = [
    'I8',
    'I16',
    'I32',
    'I64',
    'U8',
    'U16',
    'U32',
    'U64',
    'F16',
    'BF16',
    'BOOL',
  ]

  propTest.prop(
    [
      fc.constantFrom(...VARINT_DTYPES),
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 1, max: 40 }),
    ],
    {
      numRuns: 200,
    },
  )('elements → varints → elements, in any block size', async (dtype, raw, block) => {
    const item = dtypeSize(dtype)
    const data = raw.subarray(0, raw.length - (raw.length % item))
    const encoded = encodeVarints(data, dtype, item)
    const src = bufferSource('v.onnx', encoded)
    const layout = {
      name: 'v',
      dtype,
      shape: [data.length / item],
      start: 0,
      end: encoded.length,
      encoding: { kind: 'varint' as const },
      nbytes: data.length,
    }
    const parts: Uint8Array[] = []
    for await (const b of decodeVarints(src, layout, Math.max(item, block - (block % item))))
      parts.push(b)
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true)
  })

  test('negative int32s are 10-byte sign-extended varints, as protobuf writes them', () => {
    expect([...encodeVarints(Uint8Array.from([0xfb, 0xff, 0xff, 0xff]), 'I32', 4)]).toEqual([
      0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ])
  })
})
