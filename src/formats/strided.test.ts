import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { gather, scatter } from './gather.ts'
import { cStrides, fStrides, isContiguous, type StridedView, viewIndices } from './strided.ts'

/** Storage indices of a view's elements in C order, computed the slow, obvious way. */
function naiveIndices(view: StridedView): number[] {
  const out: number[] = []
  const walk = (k: number, at: number) => {
    if (k === view.shape.length) {
      out.push(at)
      return
    }
    for (let i = 0; i < (view.shape[k] as number); i++)
      walk(k + 1, at + i * (view.strides[k] as number))
  }
  walk(0, view.offset)
  return out
}

const viewArb: fc.Arbitrary<StridedView> = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 7 })), { maxLength: 4 })
  .chain((dims) =>
    fc.record({
      shape: fc.constant(dims.map(([d]) => d)),
      strides: fc.constant(dims.map(([, s]) => s)),
      offset: fc.integer({ min: 0, max: 9 }),
    }),
  )

const spanLimit = fc.constantFrom(0, 8, 40, 64 << 20)

describe('strided views', () => {
  propTest.prop([viewArb, fc.nat(), fc.nat()], { numRuns: 300 })(
    'viewIndices matches the obvious walk',
    (view, a, b) => {
      const all = naiveIndices(view)
      const first = all.length ? a % all.length : 0
      const count = all.length ? b % (all.length - first + 1) : 0
      const out = new Float64Array(count)
      viewIndices(view, first, count, out)
      expect([...out]).toEqual(all.slice(first, first + count))
    },
  )

  propTest.prop([viewArb, fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 1, max: 9 }), spanLimit], {
    numRuns: 200,
  })(
    'gather reads exactly the view, whatever the window and span limit',
    async (view, item, blockItems, limit) => {
      const all = naiveIndices(view)
      const storage = Uint8Array.from(
        { length: (Math.max(-1, ...all) + 1) * item },
        (_, i) => (i * 37 + 11) % 256,
      )
      const read = async (offset: number, length: number) => storage.slice(offset, offset + length)
      const parts: Uint8Array[] = []
      for await (const b of gather(read, { view, item, blockItems, spanLimit: limit }))
        parts.push(b)
      const expected = Buffer.concat(all.map((i) => storage.subarray(i * item, (i + 1) * item)))
      expect(Buffer.concat(parts).equals(expected)).toBe(true)
    },
  )

  propTest.prop([viewArb, fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 1, max: 9 }), spanLimit], {
    numRuns: 200,
  })(
    'scatter writes exactly the view; untouched bytes stay',
    async (view, item, blockItems, limit) => {
      const all = naiveIndices(view)
      const size = (Math.max(-1, ...all) + 3) * item
      const storage = new Uint8Array(size).fill(0xee)
      const expected = Uint8Array.from(storage)
      const values = Uint8Array.from({ length: all.length * item }, (_, i) => (i * 13 + 1) % 256)
      all.forEach((at, i) => {
        expected.set(values.subarray(i * item, (i + 1) * item), at * item)
      })
      async function* blocks() {
        for (let at = 0; at < values.length; at += blockItems * item)
          yield values.slice(at, at + blockItems * item)
      }
      const read = async (offset: number, length: number) => storage.slice(offset, offset + length)
      const write = async (offset: number, data: Uint8Array) => {
        storage.set(data, offset)
      }
      await scatter({ view, item, spanLimit: limit, read, write }, blocks())
      expect(Buffer.from(storage).equals(Buffer.from(expected))).toBe(true)
    },
  )

  test.each([
    ['rows of a wider matrix (long runs)', { shape: [3, 100], strides: [150, 1], offset: 7 }],
    ['a transposed matrix (chunks of the span)', { shape: [40, 30], strides: [1, 40], offset: 0 }],
  ])(
    '%s beyond the span limit: gather and scatter agree with the obvious walk',
    async (_, view) => {
      const item = 4
      const all = naiveIndices(view)
      const storage = Uint8Array.from(
        { length: (Math.max(...all) + 1) * item },
        (_, i) => (i * 7) % 251,
      )
      let reads = 0
      const read = async (offset: number, length: number) => {
        reads++
        return storage.slice(offset, offset + length)
      }
      const parts: Uint8Array[] = []
      for await (const b of gather(read, { view, item, blockItems: 64, spanLimit: 256 }))
        parts.push(b)
      const expected = Buffer.concat(all.map((i) => storage.subarray(i * item, (i + 1) * item)))
      expect(Buffer.concat(parts).equals(expected)).toBe(true)
      expect(reads).toBeLessThan(all.length / 4)
      const target = new Uint8Array(storage.length)
      const write = async (offset: number, data: Uint8Array) => {
        target.set(data, offset)
      }
      const fromTarget = async (offset: number, length: number) =>
        target.slice(offset, offset + length)
      await scatter(
        { view, item, spanLimit: 256, read: fromTarget, write },
        (async function* () {
          yield* parts
        })(),
      )
      for (const i of all)
        expect(target.subarray(i * item, (i + 1) * item)).toEqual(
          storage.subarray(i * item, (i + 1) * item),
        )
    },
  )

  test('contiguity as torch defines it', () => {
    expect(isContiguous([2, 3], cStrides([2, 3]))).toBe(true)
    expect(isContiguous([2, 3], fStrides([2, 3]))).toBe(false)
    expect(isContiguous([1, 3], [99, 1])).toBe(true)
    expect(isContiguous([3, 0], [5, 5])).toBe(true)
    expect(isContiguous([3], [2])).toBe(false)
    expect(isContiguous([], [])).toBe(true)
  })
})
