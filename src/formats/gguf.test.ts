import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { readLayout } from './index.ts'
import {
  checkLayout,
  expectBadFormat,
  fixture,
  sha256,
  tensorBytes,
  tensorNamed,
} from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-gguf')
let n = 0

function file(bytes: Uint8Array): string {
  const path = join(dir, `g${n++}.gguf`)
  writeFileSync(path, bytes)
  return path
}

const u32 = (v: number) => Buffer.from(Uint32Array.of(v).buffer)
const u64 = (v: number | bigint) => Buffer.from(BigUint64Array.of(BigInt(v)).buffer)
const str = (s: string | Buffer) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)])

interface Info {
  name: string
  dims: number[]
  type: number
  offset: number
}

/** A GGUF v3 file: key-values as [key, type, encoded value], tensor infos, padding, data. */
function gguf(
  kv: Array<[string, number, Buffer]>,
  infos: Info[],
  data: Buffer,
  alignment = 32,
): Buffer {
  const head = Buffer.concat([
    Buffer.from('GGUF'),
    u32(3),
    u64(infos.length),
    u64(kv.length),
    ...kv.map(([k, t, v]) => Buffer.concat([str(k), u32(t), v])),
    ...infos.map((i) =>
      Buffer.concat([
        str(i.name),
        u32(i.dims.length),
        ...i.dims.map(u64),
        u32(i.type),
        u64(i.offset),
      ]),
    ),
  ])
  const pad = Buffer.alloc((alignment - (head.length % alignment)) % alignment)
  return Buffer.concat([head, pad, data])
}

describe('gguf', () => {
  test('version 2 reads like version 3', async () => {
    const bytes = readFileSync(fixture('gguf/model.gguf'))
    const v3 = await readLayout(fixture('gguf/model.gguf'))
    bytes.writeUInt32LE(2, 4)
    expect(await readLayout(file(bytes))).toEqual(v3)
  })

  test.each([
    [1, /version 1/],
    [0x03000000, /big-endian/],
    [9, /version 9 is unknown/],
  ])('version %i is BAD_FORMAT', async (version, pattern) => {
    const bytes = readFileSync(fixture('gguf/model.gguf'))
    bytes.writeUInt32LE(version, 4)
    await expectBadFormat(readLayout(file(bytes)), pattern)
  })

  test('long strings and arrays are summarized with a hash', async () => {
    const long = 'x'.repeat(70_000)
    const arr = Buffer.concat([
      u32(8),
      u64(100),
      ...Array.from({ length: 100 }, (_, i) => str(`t${i}`)),
    ])
    const path = file(
      gguf(
        [
          ['tokenizer.chat_template', 8, str(long)],
          ['tokenizer.ggml.tokens', 9, arr],
          ['nested', 9, Buffer.concat([u32(9), u64(2), u32(5), u64(1), u32(7), u32(5), u64(0)])],
        ],
        [],
        Buffer.alloc(0),
      ),
    )
    const layout = await readLayout(path)
    expect(layout.metadata['tokenizer.chat_template']).toEqual({
      type: 'STRING',
      length: 70_000,
      sha256: sha256(Buffer.from(long)),
    })
    expect(layout.metadata['tokenizer.ggml.tokens']).toMatchObject({
      type: 'ARRAY',
      items: 'STRING',
      length: 100,
    })
    expect(layout.metadata.nested).toEqual([[7], []])
  })

  test('a quantized tensor is its blocks, with the shape outermost first', async () => {
    const path = file(
      gguf([], [{ name: 'q', dims: [64, 3], type: 8, offset: 0 }], Buffer.alloc(6 * 34, 3)),
    )
    const layout = await readLayout(path)
    checkLayout(layout, layout.size)
    expect(layout.tensors[0]).toMatchObject({ dtype: 'Q8_0', shape: [3, 64], nbytes: 204 })
    expect((await tensorBytes(path, tensorNamed(layout, 'q'))).equals(Buffer.alloc(204, 3))).toBe(
      true,
    )
  })

  test.each([
    [
      'an unknown ggml type',
      [{ name: 'w', dims: [4], type: 99, offset: 0 }],
      Buffer.alloc(16),
      /ggml type 99/,
    ],
    [
      'a row that is not whole blocks',
      [{ name: 'w', dims: [30], type: 2, offset: 0 }],
      Buffer.alloc(64),
      /not a multiple of the Q4_0 block/,
    ],
    [
      'an unaligned offset',
      [{ name: 'w', dims: [1], type: 0, offset: 4 }],
      Buffer.alloc(64),
      /not aligned to 32/,
    ],
    [
      'data past the end',
      [{ name: 'w', dims: [100], type: 0, offset: 0 }],
      Buffer.alloc(16),
      /past the end/,
    ],
    [
      'five dimensions',
      [{ name: 'w', dims: [1, 1, 1, 1, 1], type: 0, offset: 0 }],
      Buffer.alloc(4),
      /5 dimensions/,
    ],
    [
      'two tensors with one name',
      [
        { name: 'w', dims: [1], type: 0, offset: 0 },
        { name: 'w', dims: [1], type: 0, offset: 32 },
      ],
      Buffer.alloc(64),
      /two tensors are named "w"/,
    ],
    [
      'two tensors over the same bytes (ggml refuses them)',
      [
        { name: 'w', dims: [8], type: 0, offset: 0 },
        { name: 'v', dims: [8], type: 0, offset: 0 },
      ],
      Buffer.alloc(32),
      /tensors w and v overlap/,
    ],
  ])('%s is BAD_FORMAT', async (_, infos, data, pattern) => {
    await expectBadFormat(readLayout(file(gguf([], infos, data))), pattern)
  })

  test.each([
    [
      'a count larger than the file',
      (() => {
        const b = gguf([], [], Buffer.alloc(0))
        b.writeBigUInt64LE(1n << 40n, 16)
        return b
      })(),
      /cannot fit/,
    ],
    [
      'an array longer than the file',
      gguf([['a', 9, Buffer.concat([u32(4), u64(1n << 50n)])]], [], Buffer.alloc(0)),
      /cannot fit in the file/,
    ],
    [
      'an alignment that is not a power of two',
      gguf([['general.alignment', 4, u32(48)]], [], Buffer.alloc(0)),
      /not a power of two/,
    ],
    [
      'a key given twice (a map keeps the last; ggml and gguf-py refuse it)',
      gguf(
        [
          ['general.alignment', 4, u32(32)],
          ['general.alignment', 4, u32(64)],
        ],
        [],
        Buffer.alloc(0),
      ),
      /the GGUF key "general\.alignment" is given twice/,
    ],
    [
      'a key of a gigabyte',
      Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), u64(1n << 30n)]),
      /too long|truncated|past/,
    ],
  ])('%s is BAD_FORMAT', async (_, bytes, pattern) => {
    await expectBadFormat(readLayout(file(bytes)), pattern)
  })
})
