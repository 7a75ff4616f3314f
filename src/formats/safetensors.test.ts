import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { DTYPES, dtypeSize } from './dtype.ts'
import { readLayout, readShardIndex } from './index.ts'
import { parseShardIndex } from './safetensors-index.ts'
import { buildSafetensors, type SafetensorsInput } from './test-helpers/builders.ts'
import {
  checkLayout,
  expectBadFormat,
  FACTS,
  fixture,
  tensorBytes,
} from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-safetensors')
let n = 0

function file(bytes: Uint8Array): string {
  const path = join(dir, `s${n++}.safetensors`)
  writeFileSync(path, bytes)
  return path
}

const tensorInput: fc.Arbitrary<SafetensorsInput[]> = fc
  .uniqueArray(
    fc.record({
      name: fc
        .string({ minLength: 1, maxLength: 12 })
        .filter((s) => s !== '__metadata__' && !/^\d+$/.test(s)),
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      seed: fc.integer({ min: 0, max: 255 }),
    }),
    { maxLength: 6, selector: (t) => t.name },
  )
  .map((ts) =>
    ts.map(({ name, dtype, shape, seed }) => {
      const bytes = shape.reduce((a, b) => a * b, 1) * dtypeSize(dtype)
      return {
        name,
        dtype,
        shape,
        data: Uint8Array.from({ length: bytes }, (_, i) => (seed + i * 31) % 256),
      }
    }),
  )

describe('safetensors', () => {
  propTest.prop(
    [
      tensorInput,
      fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), { nil: undefined }),
    ],
    {
      numRuns: 60,
    },
  )('header round trip: names, dtypes, shapes, offsets, metadata', async (tensors, metadata) => {
    const path = file(buildSafetensors(tensors, metadata))
    const layout = await readLayout(path)
    checkLayout(layout, layout.size)
    expect(layout.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(
      tensors.map((t) => [t.name, t.dtype, t.shape]),
    )
    expect(layout.metadata).toEqual(
      Object.fromEntries(Object.entries(metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
    )
    for (const [i, t] of layout.tensors.entries()) {
      expect((await tensorBytes(path, t)).equals(Buffer.from(tensors[i]?.data ?? []))).toBe(true)
    }
  })

  test('names like __proto__ stay plain keys', async () => {
    const meta = JSON.parse('{"__proto__": "x", "a": "y"}') as Record<string, string>
    const path = file(
      buildSafetensors(
        [{ name: '__proto__', dtype: 'U8', shape: [1], data: Uint8Array.of(7) }],
        meta,
      ),
    )
    const layout = await readLayout(path)
    expect(layout.tensors.map((t) => t.name)).toEqual(['__proto__'])
    expect(Object.entries(layout.metadata)).toEqual([
      ['__proto__', 'x'],
      ['a', 'y'],
    ])
    expect(Object.getPrototypeOf(layout.metadata)).toBe(Object.prototype)
  })

  function withHeader(header: unknown, data = Buffer.alloc(16)): Buffer {
    const json = Buffer.from(JSON.stringify(header))
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(json.length))
    return Buffer.concat([len, json, data])
  }

  test.each([
    [
      'a header length past the end',
      (() => {
        const b = withHeader({})
        b.writeBigUInt64LE(9_000_000_000_000_000_000n)
        return b
      })(),
      /header length 9000000000000000000 exceeds file size/,
    ],
    [
      'a header that is not JSON',
      Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"abc')]),
      /not valid UTF-8 JSON/,
    ],
    [
      'an unknown dtype',
      withHeader({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }),
      /dtype C64/,
    ],
    [
      'offsets that disagree with the shape',
      withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }),
      /hold 8 bytes.*needs 12/,
    ],
    [
      'data past the end',
      withHeader({ w: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }),
      /past the end/,
    ],
    [
      'overlapping tensors',
      withHeader({
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      }),
      /overlap/,
    ],
    [
      'a negative shape',
      withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }),
      /bad shape/,
    ],
    [
      'metadata that is not text',
      withHeader({ __metadata__: { a: 1 } }),
      /__metadata__\.a is not a string/,
    ],
  ])('%s is BAD_FORMAT naming the file', async (_, bytes, pattern) => {
    const path = file(bytes)
    const err = await expectBadFormat(readLayout(path), pattern)
    expect(err.message.startsWith(`${path}: `)).toBe(true)
  })

  /** A header written as given (JSON.stringify cannot repeat a key). */
  function rawHeader(json: string, data = Buffer.alloc(32)): Buffer {
    const text = json + ' '.repeat((8 - (json.length % 8)) % 8)
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(text.length))
    return Buffer.concat([len, Buffer.from(text), data])
  }

  test.each([
    [
      'a tensor named twice (JSON.parse keeps the last)',
      '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}',
      /header gives "a" twice/,
    ],
    [
      'a tensor named twice through an escape',
      '{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]},"\\u0061":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}',
      /header gives "a" twice/,
    ],
    [
      'a dtype given twice (safetensors refuses it)',
      '{"a":{"dtype":"F32","dtype":"I32","shape":[8],"data_offsets":[0,32]}}',
      /header gives "a" → "dtype" twice/,
    ],
    [
      'a metadata key given twice (safetensors keeps the last)',
      '{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}',
      /header gives "__metadata__" → "k" twice/,
    ],
  ])('%s is BAD_FORMAT', async (_, json, pattern) => {
    await expectBadFormat(readLayout(file(rawHeader(json))), pattern)
  })
})

describe('sharded checkpoints', () => {
  test('the transformers index lists every shard and tensor', async () => {
    const rel = 'safetensors/sharded/model.safetensors.index.json'
    const index = await readShardIndex(fixture(rel))
    const fact = FACTS[rel]?.index
    expect(Object.fromEntries(index.weightMap)).toEqual(fact?.weight_map)
    expect(index.metadata).toEqual(fact?.metadata)
    expect(index.shards).toEqual([...new Set(Object.values(fact?.weight_map ?? {}))].sort())
    for (const shard of index.shards) {
      const layout = await readLayout(fixture(`safetensors/sharded/${shard}`))
      const names = [...index.weightMap].filter(([, s]) => s === shard).map(([t]) => t)
      expect(layout.tensors.map((t) => t.name).sort()).toEqual(names.sort())
    }
  })

  test.each(['../model.safetensors', '/etc/passwd', 'a/../../b', 'C:\\x', 'a\\..\\b', ''])(
    'shard %j cannot leave the folder',
    (shard) => {
      expect(() => parseShardIndex('i.json', JSON.stringify({ weight_map: { w: shard } }))).toThrow(
        /inside the index's folder/,
      )
    },
  )

  test('an index without weight_map is BAD_FORMAT', () => {
    expect(() => parseShardIndex('i.json', '{"metadata": {}}')).toThrow(/no weight_map/)
    expect(() => parseShardIndex('i.json', 'nope')).toThrow(/not JSON/)
  })
})
