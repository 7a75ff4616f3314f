import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { readLayout } from './index.ts'
import { buildNpy, buildZip } from './test-helpers/builders.ts'
import { expectBadFormat, tensorBytes, tensorNamed } from './test-helpers/fixtures.ts'

const dir = tempDir('mlvc-npz')
let n = 0

function file(bytes: Uint8Array): string {
  const path = join(dir, `a${n++}.npz`)
  writeFileSync(path, bytes)
  return path
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer)
const npy = (values: number[]) =>
  buildNpy({ descr: '<f4', fortran: false, shape: [values.length], data: f32(values) })

describe('npz archives NumPy and mlvc could read differently', () => {
  test.each([
    ['stored', 0, false],
    ['deflated', 8, false],
    ['stored, zip64 and data descriptors', 0, true],
    ['deflated, zip64 and data descriptors', 8, true],
  ] as const)(
    'a member whose bytes do not match its CRC-32 is BAD_FORMAT (%s; NumPy refuses it)',
    async (_, method, z64) => {
      const bad = npy([1, 2, 3])
      const zip = buildZip(
        [
          { name: 'a.npy', data: npy([4]), method, descriptor: z64 },
          { name: 'b.npy', data: bad, method, descriptor: z64, crc: (crc32(bad) ^ 4) >>> 0 },
        ],
        { zip64: z64 },
      )
      await expectBadFormat(readLayout(file(zip)), /zip entry b\.npy: its data has CRC-32/)
    },
  )

  test('members with good CRCs read as before, stored and deflated', async () => {
    const path = file(
      buildZip([
        { name: 'a.npy', data: npy([1, 2]), method: 0 },
        { name: 'b.npy', data: npy([3, 4, 5]), method: 8 },
      ]),
    )
    const layout = await readLayout(path)
    expect((await tensorBytes(path, tensorNamed(layout, 'b'))).equals(f32([3, 4, 5]))).toBe(true)
  })

  test('two members of one name (NumPy reads the last) are BAD_FORMAT naming it', async () => {
    const zip = buildZip([
      { name: 'x.npy', data: npy([0, 0]) },
      { name: 'x.npy', data: npy([1, 1]) },
    ])
    await expectBadFormat(readLayout(file(zip)), /two zip entries are named "x\.npy"/)
  })
})
