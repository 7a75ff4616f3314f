import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { detectFormat, readLayout } from './index.ts'
import {
  buildTorchZip,
  buildZip,
  pickle,
  torchStatePickle,
  torchTensorPickle,
} from './test-helpers/builders.ts'
import { checkLayout, expectBadFormat, tensorBytes, tensorNamed } from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-torch')
let n = 0

function file(bytes: Uint8Array): string {
  const path = join(dir, `t${n++}.pt`)
  writeFileSync(path, bytes)
  return path
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer)

describe('torch zip archives', () => {
  test('a big-endian archive decodes to little-endian bytes', async () => {
    const storage = Buffer.alloc(12)
    ;[1.5, -2, 3].forEach((v, i) => {
      storage.writeFloatBE(v, i * 4)
    })
    const pkl = torchStatePickle([{ name: 'w', key: '0', numel: 3, shape: [3], strides: [1] }])
    const path = file(buildTorchZip(pkl, { '0': storage }, { byteorder: 'big' }))
    const layout = await readLayout(path)
    expect(tensorNamed(layout, 'w').encoding).toMatchObject({ byteOrder: 'big' })
    expect((await tensorBytes(path, tensorNamed(layout, 'w'))).equals(f32([1.5, -2, 3]))).toBe(true)
  })

  test('a zero-stride (expanded) view reads its one element repeatedly', async () => {
    const pkl = torchStatePickle([
      { name: 'e', key: '0', numel: 2, offset: 1, shape: [2, 3], strides: [0, 0] },
    ])
    const path = file(buildTorchZip(pkl, { '0': f32([7, 9]) }))
    const layout = await readLayout(path)
    checkLayout(layout, layout.size)
    expect(
      (await tensorBytes(path, tensorNamed(layout, 'e'))).equals(f32([9, 9, 9, 9, 9, 9])),
    ).toBe(true)
  })

  test('views of one storage are one segment naming both', async () => {
    const pkl = torchStatePickle([
      { name: 'a', key: '0', numel: 4, shape: [2], strides: [1] },
      { name: 'b', key: '0', numel: 4, offset: 2, shape: [2], strides: [1] },
    ])
    const path = file(buildTorchZip(pkl, { '0': f32([1, 2, 3, 4]) }))
    const layout = await readLayout(path)
    expect(layout.segments).toHaveLength(1)
    expect(layout.segments[0]?.tensors).toEqual(['a', 'b'])
    expect((await tensorBytes(path, tensorNamed(layout, 'b'))).equals(f32([3, 4]))).toBe(true)
  })

  test.each([
    [
      'a view past its storage',
      [{ name: 'w', key: '0', numel: 3, offset: 2, shape: [3], strides: [1] }],
      { '0': f32([1, 2, 3]) },
      /reads past its 12-byte storage/,
    ],
    [
      'a storage of the wrong size',
      [{ name: 'w', key: '0', numel: 4, shape: [3], strides: [1] }],
      { '0': f32([1, 2, 3]) },
      /holds 12 bytes, its storage needs 16/,
    ],
    [
      'a missing storage',
      [{ name: 'w', key: '7', numel: 3, shape: [3], strides: [1] }],
      { '0': f32([1, 2, 3]) },
      /archive\/data\/7 is missing/,
    ],
    [
      'a complex storage',
      [{ name: 'w', key: '0', storage: 'ComplexFloatStorage', numel: 1, shape: [1], strides: [1] }],
      { '0': f32([1, 2]) },
      /ComplexFloatStorage, which mlvc does not read/,
    ],
    [
      'strides and shape that disagree',
      [{ name: 'w', key: '0', numel: 3, shape: [3], strides: [] }],
      { '0': f32([1, 2, 3]) },
      /as many strides/,
    ],
  ])('%s is BAD_FORMAT', async (_, specs, storages, pattern) => {
    await expectBadFormat(
      readLayout(file(buildTorchZip(torchStatePickle(specs), storages))),
      pattern,
    )
  })

  test('an expanded view too large to count is BAD_FORMAT', async () => {
    const specs = [{ name: 'w', key: '0', numel: 1, shape: [2 ** 30, 2 ** 21], strides: [0, 0] }]
    await expectBadFormat(
      readLayout(file(buildTorchZip(torchStatePickle(specs), { '0': f32([1]) }))),
      /too large/,
    )
  })

  test('a compressed storage is refused: torch writes them stored', async () => {
    const pkl = torchStatePickle([{ name: 'w', key: '0', numel: 3, shape: [3], strides: [1] }])
    const zip = buildZip([
      { name: 'archive/data.pkl', data: pkl },
      { name: 'archive/data/0', data: f32([1, 2, 3]), method: 8 },
    ])
    await expectBadFormat(readLayout(file(zip)), /compressed/)
  })

  describe('archives torch and mlvc could read differently', () => {
    const w = [{ name: 'w', key: '0', numel: 3, shape: [3], strides: [1] }]
    const v = [{ name: 'v', key: '0', numel: 3, shape: [3], strides: [1] }]

    test('two data.pkl (torch reads the last) are BAD_FORMAT naming the entry', async () => {
      const zip = buildTorchZip(
        torchStatePickle(w),
        { '0': f32([1, 2, 3]) },
        { extra: [{ name: 'archive/data.pkl', data: torchStatePickle(v) }] },
      )
      await expectBadFormat(readLayout(file(zip)), /two zip entries are named "archive\/data\.pkl"/)
    })

    test('two data/0 (torch reads the last) are BAD_FORMAT naming the entry', async () => {
      const zip = buildTorchZip(
        torchStatePickle(w),
        { '0': f32([1, 2, 3]) },
        { extra: [{ name: 'archive/data/0', data: f32([9, 9, 9]) }] },
      )
      await expectBadFormat(readLayout(file(zip)), /two zip entries are named "archive\/data\/0"/)
    })

    test('a storage whose bytes do not match its CRC-32 is BAD_FORMAT', async () => {
      const storage = f32([1, 2, 3])
      const zip = buildZip([
        { name: 'archive/data.pkl', data: torchStatePickle(w) },
        { name: 'archive/data/0', data: storage, crc: (crc32(storage) ^ 0x10) >>> 0 },
      ])
      const path = file(zip)
      await expectBadFormat(readLayout(path), /zip entry archive\/data\/0: its data has CRC-32/)
      // Files whose bytes were checked before (materialized from the store) skip the read.
      expect((await readLayout(path, { checkCrc: false })).tensors.map((t) => t.name)).toEqual([
        'w',
      ])
    })

    test('the folder of the first entry is the archive, as torch takes it', async () => {
      const zip = buildZip([
        { name: 'b/version', data: Buffer.from('3\n') },
        { name: 'a/data.pkl', data: torchStatePickle(w) },
        { name: 'a/data/0', data: f32([1, 2, 3]) },
        { name: 'b/data.pkl', data: torchStatePickle(v) },
        { name: 'b/data/0', data: f32([4, 5, 6]) },
      ])
      const path = file(zip)
      const layout = await readLayout(path)
      expect(layout.tensors.map((t) => t.name)).toEqual(['v'])
      expect((await tensorBytes(path, tensorNamed(layout, 'v'))).equals(f32([4, 5, 6]))).toBe(true)
    })
  })

  test('TorchScript archives are not state dicts', async () => {
    const zip = buildTorchZip(
      pickle(null),
      {},
      { extra: [{ name: 'archive/constants.pkl', data: pickle(null) }] },
    )
    const path = file(zip)
    expect(await detectFormat(path)).toBeUndefined()
    await expectBadFormat(readLayout(path), /TorchScript/)
  })

  test('a root that is not a dict: torch.save(tensor) names it ""; plain values are metadata', async () => {
    const pkl = torchTensorPickle({ name: '', key: '0', numel: 1, shape: [], strides: [] })
    const path = file(buildTorchZip(pkl, { '0': f32([5]) }))
    const layout = await readLayout(path)
    expect(layout.tensors.map((t) => t.name)).toEqual([''])
    const values = file(buildTorchZip(pickle({ dict: [['step', 10]] }), {}))
    expect((await readLayout(values)).metadata).toEqual({ step: 10 })
  })
})
