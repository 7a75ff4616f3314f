import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { pseudoRandomBytes } from '../test-helpers/index.ts'
import {
  type CdcParams,
  cdcParams,
  createCutter,
  cutPoints,
  DEFAULT_CDC,
  fastcdc,
} from './fastcdc.ts'
import { GEAR } from './gear.ts'

/** FastCDC written as plainly as possible, as the reference for the optimized cutter. */
function referenceCuts(data: Uint8Array, p: CdcParams): number[] {
  const bits = Math.log2(p.avgSize)
  const maskS = -1 << (32 - (bits + 2))
  const maskL = -1 << (32 - (bits - 2))
  const cuts: number[] = []
  let start = 0
  while (start < data.length) {
    let end = Math.min(start + p.maxSize, data.length)
    if (data.length - start > p.minSize) {
      let h = 0
      for (let i = start + p.minSize; i < Math.min(start + p.maxSize, data.length); i++) {
        h = ((h << 1) + (GEAR[data[i] as number] as number)) | 0
        const mask = i - start < p.avgSize ? maskS : maskL
        if ((h & mask) === 0) {
          end = i + 1
          break
        }
      }
    } else {
      end = data.length
    }
    cuts.push(end)
    start = end
  }
  return cuts
}

const SMALL: CdcParams = { minSize: 256, avgSize: 1024, maxSize: 4096 }

describe('FastCDC', () => {
  test('golden gear table', () => {
    expect([GEAR[0], GEAR[1], GEAR[255]]).toEqual([-424388468, 267180392, 2012168410])
  })

  test('golden cut points (default 32/64/256 KiB)', () => {
    const data = pseudoRandomBytes(1 << 20, 42)
    expect(cutPoints(data)).toEqual([
      89823, 182108, 301813, 396660, 447720, 568419, 664672, 779493, 883991, 957316, 1040189,
      1048576,
    ])
  })

  test('golden cut points (2/8/32 KiB)', () => {
    const data = pseudoRandomBytes(1 << 20, 42)
    expect(cutPoints(data, { minSize: 2048, avgSize: 8192, maxSize: 32768 }).slice(0, 12)).toEqual([
      4885, 13755, 21245, 34409, 37186, 47598, 54294, 63816, 72862, 86499, 97640, 107993,
    ])
  })

  test('matches the plain reference implementation', () => {
    const data = pseudoRandomBytes(3 << 20, 7)
    expect(cutPoints(data)).toEqual(referenceCuts(data, DEFAULT_CDC))
    expect(cutPoints(data, SMALL)).toEqual(referenceCuts(data, SMALL))
  })

  test('respects the bounds; only the last chunk may be short', () => {
    const data = pseudoRandomBytes(2 << 20, 3)
    const cuts = cutPoints(data)
    let start = 0
    cuts.forEach((end, i) => {
      const size = end - start
      expect(size).toBeLessThanOrEqual(DEFAULT_CDC.maxSize)
      if (i < cuts.length - 1) expect(size).toBeGreaterThanOrEqual(DEFAULT_CDC.minSize)
      start = end
    })
  })

  test('cuts at maxSize on data without cut points', () => {
    expect(cutPoints(new Uint8Array(600_000))).toEqual([262144, 524288, 600000])
  })

  test('equal bounds cut fixed-size chunks, never past the data', () => {
    const fixed = { minSize: 4096, avgSize: 4096, maxSize: 4096 }
    const data = pseudoRandomBytes(10_000, 3)
    expect(cutPoints(data.subarray(0, 1000), fixed)).toEqual([1000])
    expect(cutPoints(data.subarray(0, 4096), fixed)).toEqual([4096])
    expect(cutPoints(data, fixed)).toEqual([4096, 8192, 10_000])
    // Fed in pieces: the same.
    const cutter = createCutter(fixed)
    expect([cutter.next(data, 0, 3000), cutter.next(data, 3000, 5000)]).toEqual([-1, 4096])
  })

  propTest.prop(
    [
      fc.integer({ min: 0, max: 60_000 }),
      fc.array(fc.integer({ min: 1, max: 9000 }), { maxLength: 20 }),
    ],
    {
      numRuns: 60,
    },
  )('feeding pieces gives the same cuts as feeding the whole', (length, pieceSizes) => {
    const data = pseudoRandomBytes(length, length + 1)
    const cutter = createCutter(SMALL)
    const cuts: number[] = []
    let pos = 0
    let piece = 0
    while (pos < data.length) {
      const end = Math.min(
        data.length,
        pos + (pieceSizes[piece++ % Math.max(1, pieceSizes.length)] ?? data.length),
      )
      let at = pos
      while (at < end) {
        const cut = cutter.next(data, at, end)
        if (cut < 0) break
        cuts.push(cut)
        at = cut
      }
      pos = end
    }
    if (cutter.pending > 0) cuts.push(data.length)
    expect(cuts).toEqual(referenceCuts(data, SMALL))
  })

  test('the streaming chunker yields the chunks, in order, that make up the input', async () => {
    const data = pseudoRandomBytes(500_000, 9)
    async function* source() {
      for (let i = 0; i < data.length; i += 70_001) yield data.subarray(i, i + 70_001)
    }
    const chunks: Uint8Array[] = []
    for await (const chunk of fastcdc(SMALL)(source())) chunks.push(chunk)
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
    expect(chunks.map((c) => c.length)).toEqual(
      referenceCuts(data, SMALL).map((end, i, all) => end - (i === 0 ? 0 : (all[i - 1] as number))),
    )
  })

  test('rejects impossible bounds', () => {
    expect(() => cdcParams({ avgSize: 1000 })).toThrow(/power of two/)
    expect(() => cdcParams({ minSize: 1 << 17 })).toThrow(/minSize <= avgSize/)
  })
})
