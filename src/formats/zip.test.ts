import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { readLayout, writeWithTensors } from './index.ts'
import { bufferSource } from './source.ts'
import { buildNpy, buildZip, type ZipInput } from './test-helpers/builders.ts'
import { checkLayout, expectBadFormat, tensorBytes, tensorNamed } from './test-helpers/fixtures.ts'
import { readZipDirectory, type ZipEntry } from './zip.ts'
import { readZipEntry } from './zip-data.ts'

const dir = tempDir('mlvc-zip')

const zipInput: fc.Arbitrary<ZipInput[]> = fc.uniqueArray(
  fc.record({
    name: fc.stringMatching(/^[a-z0-9_/]{1,12}$/),
    data: fc.uint8Array({ maxLength: 300 }),
    method: fc.constantFrom(0 as const, 8 as const),
    descriptor: fc.boolean(),
  }),
  { minLength: 1, maxLength: 6, selector: (e) => e.name },
)

async function entries(zip: Uint8Array) {
  const src = bufferSource('t.zip', zip)
  const d = await readZipDirectory(src, 1 << 20)
  return Promise.all(
    d.entries.map(async (e) => ({
      name: e.name,
      data: await readZipEntry(src, e, 1 << 20),
      crc: e.crc32,
    })),
  )
}

describe('zip reader', () => {
  propTest.prop(
    [zipInput, fc.boolean(), fc.uint8Array({ maxLength: 20 }), fc.string({ maxLength: 20 })],
    { numRuns: 100 },
  )(
    'reads back what was written: stored or deflated, descriptors, zip64, prefixes, comments',
    async (input, zip64, prefix, comment) => {
      const got = await entries(buildZip(input, { zip64, prefix, comment }))
      expect(got.map((e) => e.name)).toEqual(input.map((e) => e.name))
      got.forEach((e, i) => {
        expect(Buffer.from(e.data).equals(Buffer.from(input[i]?.data ?? []))).toBe(true)
        expect(e.crc).toBe(crc32(e.data))
      })
    },
  )

  test.each([
    ['no end record', Buffer.from('PK\x03\x04 not really a zip'), /end-of-central-directory/],
    [
      'a directory past its end',
      (() => {
        const z = buildZip([{ name: 'a', data: Buffer.from('x') }])
        z.writeUInt32LE(1_000_000, z.length - 6)
        return z
      })(),
      /runs past its end record/,
    ],
    [
      'more entries than the directory holds',
      (() => {
        const z = buildZip([{ name: 'a', data: Buffer.from('x') }])
        z.writeUInt16LE(60000, z.length - 12)
        return z
      })(),
      /cannot fit/,
    ],
    [
      'a local header that names another file',
      (() => {
        const z = buildZip([{ name: 'a', data: Buffer.from('x') }])
        z[30] = 'b'.charCodeAt(0)
        return z
      })(),
      /names another file/,
    ],
  ])('%s is BAD_FORMAT', async (_, zip, pattern) => {
    await expectBadFormat(readZipDirectory(bufferSource('t.zip', zip), 1 << 20), pattern)
  })

  test('overlapping entries are refused', async () => {
    const z = buildZip([
      { name: 'a', data: Buffer.alloc(10) },
      { name: 'a', data: Buffer.alloc(10) },
    ])
    const cd = z.indexOf(Buffer.from('PK\x01\x02', 'latin1'))
    const second = z.indexOf(Buffer.from('PK\x01\x02', 'latin1'), cd + 4)
    z.writeUInt32LE(0, second + 42) // both records now claim the first local header
    await expectBadFormat(readZipDirectory(bufferSource('t.zip', z), 1 << 20), /overlap/)
  })

  test('two entries of one name are BAD_FORMAT naming it', async () => {
    const z = buildZip([
      { name: 'x/data.pkl', data: Buffer.from('first') },
      { name: 'x/data.pkl', data: Buffer.from('second') },
    ])
    await expectBadFormat(
      readZipDirectory(bufferSource('t.zip', z), 1 << 20),
      /t\.zip: two zip entries are named "x\/data\.pkl"/,
    )
  })

  /** Offset of the first central directory record. */
  const cdAt = (z: Buffer) => z.indexOf(Buffer.from('PK\x01\x02', 'latin1'))

  test.each([
    ['method', (z: Buffer) => z.writeUInt16LE(8, 8), /local header says compression method 8/],
    ['CRC-32', (z: Buffer) => z.writeUInt32LE(7, 14), /local header records crc32 7/],
    ['size', (z: Buffer) => z.writeUInt32LE(3, 22), /local header records size 3/],
    ['flags', (z: Buffer) => z.writeUInt16LE(0x809, 6), /local header's flags/],
    [
      'zip64 size',
      (z: Buffer) => z.writeBigUInt64LE(5n, 30 + 1 + 4),
      /local header records size 5, the central directory 4/,
      true,
    ],
  ])(
    'a local header whose %s disagrees with the central directory is BAD_FORMAT',
    async (_, patch, pattern, zip64 = false) => {
      const z = buildZip([{ name: 'a', data: Buffer.from('abcd') }], { zip64 })
      patch(z)
      await expectBadFormat(readZipDirectory(bufferSource('t.zip', z), 1 << 20), pattern)
    },
  )

  test('a data descriptor that disagrees with the central directory is BAD_FORMAT', async () => {
    const z = buildZip([{ name: 'a', data: Buffer.from('abcd'), descriptor: true }])
    const descriptor = cdAt(z) - 16
    expect(z.readUInt32LE(descriptor)).toBe(0x08074b50)
    z.writeUInt32LE(4, descriptor + 12) // uncompressed size: 4 → the same, then compressed 9
    z.writeUInt32LE(9, descriptor + 8)
    await expectBadFormat(
      readZipDirectory(bufferSource('t.zip', z), 1 << 20),
      /data descriptor records compressedSize 9, the central directory 4/,
    )
  })

  test.each([
    ['stored', 0, false],
    ['deflated', 8, false],
    ['stored, zip64 and a data descriptor', 0, true],
    ['deflated, zip64 and a data descriptor', 8, true],
  ] as const)(
    'an entry whose data does not match its CRC-32 is BAD_FORMAT (%s)',
    async (_, method, z64) => {
      const data = Buffer.from('the real loaders check this')
      const z = buildZip(
        [{ name: 'a', data, method, descriptor: z64, crc: (crc32(data) ^ 1) >>> 0 }],
        {
          zip64: z64,
        },
      )
      const src = bufferSource('t.zip', z)
      const [entry] = (await readZipDirectory(src, 1 << 20)).entries
      await expectBadFormat(
        readZipEntry(src, entry as ZipEntry, 1 << 20),
        /zip entry a: its data has CRC-32 0x[0-9a-f]{8}, the zip directory records 0x[0-9a-f]{8}/,
      )
    },
  )

  test('a zip bomb cannot inflate past the size the directory claims', async () => {
    const z = buildZip([{ name: 'a', data: Buffer.alloc(100_000), method: 8 }])
    const cd = z.indexOf(Buffer.from('PK\x01\x02', 'latin1'))
    z.writeUInt32LE(1000, cd + 24)
    z.writeUInt32LE(1000, 22) // the local header agrees
    const src = bufferSource('t.zip', z)
    const [entry] = (await readZipDirectory(src, 1 << 20)).entries
    await expectBadFormat(readZipEntry(src, entry as ZipEntry, 1 << 20), /more than the 1000 bytes/)
  })
})

describe('npz rewrite', () => {
  const f64 = (n: number, k: number) =>
    Buffer.from(new Float64Array(Array.from({ length: n }, (_, i) => i * k)).buffer)
  const npy = (data: Buffer, fortran = false) =>
    buildNpy({ descr: '<f8', fortran, shape: [2, data.length / 16], data })

  test.each([
    ['zip64 records and data descriptors', { zip64: true, comment: '' }, true],
    ['an archive comment', { zip64: false, comment: 'made by hand' }, false],
  ])('%s: offsets, sizes and CRCs follow', async (_, options, descriptor) => {
    const zip = buildZip(
      [
        { name: 'a.npy', data: npy(f64(6, 1)), method: 8, descriptor },
        { name: 'b.npy', data: npy(f64(4, 2), true), method: 0, descriptor },
        { name: 'c.npy', data: npy(f64(8, 3)), method: 8, descriptor },
      ],
      options,
    )
    const src = join(dir, 'in.npz')
    const out = join(dir, 'out.npz')
    writeFileSync(src, zip)
    const layout = await readLayout(src)
    const replacements = new Map([
      ['a', f64(6, -1)],
      ['b', f64(4, 5)],
    ])
    const after = await writeWithTensors(src, layout, replacements, out, { fsync: false })
    checkLayout(after, readFileSync(out).length)
    expect((await tensorBytes(out, tensorNamed(after, 'a'))).equals(f64(6, -1))).toBe(true)
    expect((await tensorBytes(out, tensorNamed(after, 'b'))).equals(f64(4, 5))).toBe(true)
    expect((await tensorBytes(out, tensorNamed(after, 'c'))).equals(f64(8, 3))).toBe(true)
    for (const e of await entries(readFileSync(out))) expect(e.crc, e.name).toBe(crc32(e.data))
    if (options.comment)
      expect(readFileSync(out).toString('latin1').endsWith(options.comment)).toBe(true)
  })
})
