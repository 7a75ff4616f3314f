import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { applyDelta, applyDeltaTo } from './delta-apply.ts'
import { createDeltaEncoder, deltaOf, encodeDelta } from './delta-encode.ts'
import { MAX_RUN } from './delta-format.ts'
import { concat, equalBytes, fixture, fixtureJSON, pieces } from './test-helpers/index.ts'

const DTYPE_OF_SIZE: Record<number, DType> = { 1: 'U8', 2: 'BF16', 4: 'F32', 8: 'F64' }

interface DiffCase {
  name: string
  dtype: DType
  a: string
  b: string
  delta: string
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** A pair of tensors: random old bytes, and new bytes differing in the chosen elements. */
const tensorPair = fc
  .record({
    size: fc.constantFrom(1, 2, 4, 8),
    elements: fc.oneof(fc.nat(50), fc.nat(3 * MAX_RUN)),
    pattern: fc.constantFrom('none', 'all', 'sparse', 'dense', 'runs'),
    seed: fc.nat(),
  })
  .map(({ size, elements, pattern, seed }) => {
    let x = seed | 1
    const rand = () => {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) / 2 ** 32
    }
    const old = Uint8Array.from({ length: size * elements }, () => Math.floor(rand() * 256))
    const next = old.slice()
    let runLeft = 0
    for (let i = 0; i < elements; i++) {
      let change = false
      if (pattern === 'all') change = true
      else if (pattern === 'sparse') change = rand() < 0.02
      else if (pattern === 'dense') change = rand() < 0.6
      else if (pattern === 'runs') {
        if (runLeft === 0 && rand() < 0.002) runLeft = Math.floor(rand() * 2 * MAX_RUN)
        change = runLeft > 0
        runLeft = Math.max(0, runLeft - 1)
      }
      if (change) {
        const at = i * size + Math.floor(rand() * size)
        next[at] = (next[at] as number) ^ (1 + Math.floor(rand() * 255))
      }
    }
    return { dtype: DTYPE_OF_SIZE[size] as DType, size, elements, old, next }
  })

function changedElements(a: Uint8Array, b: Uint8Array, size: number): number {
  let changed = 0
  for (let i = 0; i < a.length; i += size) {
    if (!equalBytes(a.subarray(i, i + size), b.subarray(i, i + size))) changed++
  }
  return changed
}

describe('golden deltas (written by the Python re-implementation of the format)', () => {
  const cases = fixtureJSON<DiffCase[]>('diff.json')
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const a = fixture(c.a)
    const b = fixture(c.b)
    const expected = fixture(c.delta)
    const elements = a.length / dtypeSize(c.dtype)
    const delta = deltaOf({ dtype: c.dtype, elements }, a, b) as Uint8Array
    expect(equalBytes(delta, expected)).toBe(true)
    expect(equalBytes(applyDeltaTo(a, expected, { dtype: c.dtype, elements }), b)).toBe(true)
    const streamed = await concat(
      encodeDelta(pieces(a, [5, 999, 4001]), pieces(b, [77, 3000]), { dtype: c.dtype, elements }),
    )
    expect(equalBytes(streamed, expected)).toBe(true)
  })
})

describe('round trip', () => {
  propTest.prop(
    [tensorPair, fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 })],
    {
      numRuns: 150,
    },
  )(
    'apply(encode(old, new), old) is new, bit for bit, however both are split',
    async (pair, cutsOld, cutsDelta) => {
      const { dtype, elements, old, next, size } = pair
      const options = { dtype, elements }
      const delta = deltaOf(options, old, next) as Uint8Array
      expect(equalBytes(applyDeltaTo(old, delta, options), next)).toBe(true)
      const rebuilt = await concat(
        applyDelta(pieces(old, cutsOld), pieces(delta, cutsDelta), options),
      )
      expect(equalBytes(rebuilt, next)).toBe(true)
      // The encoding depends on the tensors only, not on the blocks they came in.
      const encoder = createDeltaEncoder(options)
      const cut = size * Math.floor((cutsOld[0] ?? 0) % (elements + 1))
      const parts = [
        encoder.update(old.subarray(0, cut), next.subarray(0, cut)),
        encoder.update(old.subarray(cut), next.subarray(cut)),
        encoder.finish(),
      ]
      expect(equalBytes(new Uint8Array(Buffer.concat(parts)), delta)).toBe(true)
      expect(encoder.changed).toBe(changedElements(old, next, size))
      expect(encoder.size).toBe(delta.length)
    },
  )

  propTest.prop([tensorPair, fc.nat(100_000)])(
    'is abandoned exactly when it would reach maxBytes',
    (pair, maxBytes) => {
      const { dtype, elements, old, next } = pair
      const full = deltaOf({ dtype, elements }, old, next) as Uint8Array
      const limited = deltaOf({ dtype, elements, maxBytes }, old, next)
      if (full.length < maxBytes) expect(limited && equalBytes(limited, full)).toBe(true)
      else expect(limited).toBeUndefined()
    },
  )

  test('keeps NaN payloads and the sign of zero', () => {
    const old = new Uint8Array(new Uint32Array([0x7fc00001, 0x00000000, 0x3f800000]).buffer)
    const next = new Uint8Array(new Uint32Array([0x7fc00002, 0x80000000, 0x3f800000]).buffer)
    const delta = deltaOf({ dtype: 'F32', elements: 3 }, old, next) as Uint8Array
    expect(equalBytes(applyDeltaTo(old, delta), next)).toBe(true)
    // header 7 + token 1 + run 1 + 8 value bytes + trailer 2
    expect(delta.length).toBe(19)
  })

  test('the streaming encoder reports false when it gives up', async () => {
    const old = new Uint8Array(4000)
    const next = new Uint8Array(4000).fill(1)
    async function* run(maxBytes: number) {
      return yield* encodeDelta(pieces(old, [1000]), pieces(next, [10]), {
        dtype: 'U8',
        elements: 4000,
        maxBytes,
      })
    }
    const outcome = async (maxBytes: number) => {
      const it = run(maxBytes)
      for (;;) {
        const r = await it.next()
        if (r.done) return r.value
      }
    }
    expect(await outcome(2000)).toBe(false)
    expect(await outcome(5000)).toBe(true)
  })

  test('the encoder refuses more or fewer elements than declared', () => {
    const encoder = createDeltaEncoder({ dtype: 'F32', elements: 2 })
    encoder.update(new Uint8Array(4), new Uint8Array(4))
    expect(
      isMlvcError(
        errorOf(() => encoder.finish()),
        'USAGE',
      ),
    ).toBe(true)
    const other = createDeltaEncoder({ dtype: 'F32', elements: 1 })
    expect(
      isMlvcError(
        errorOf(() => other.update(new Uint8Array(8), new Uint8Array(8))),
        'USAGE',
      ),
    ).toBe(true)
  })
})

describe('malformed deltas fail with BAD_DELTA', () => {
  const old = Uint8Array.from({ length: 400 }, (_, i) => i & 255)
  const next = old.slice()
  next[10] = 0
  next.fill(9, 100, 180)
  next[396] = 1
  const options = { dtype: 'F32' as const, elements: 100 }
  const good = deltaOf(options, old, next) as Uint8Array

  function expectBad(delta: Uint8Array, base = old, opts: object = options): void {
    const error = errorOf(() => applyDeltaTo(base, delta, opts))
    expect(isMlvcError(error, 'BAD_DELTA'), String(error)).toBe(true)
  }

  test('every truncation', async () => {
    for (let n = 0; n < good.length; n++) {
      expectBad(good.subarray(0, n))
      const error = await concat(
        applyDelta(pieces(old, [50]), pieces(good.subarray(0, n), [3]), options),
      ).catch((err: unknown) => err)
      expect(isMlvcError(error, 'BAD_DELTA')).toBe(true)
    }
  })

  test('the error names the tensor', () => {
    const error = errorOf(() => applyDeltaTo(old, good.subarray(0, 9), { name: 'layers.3.mlp.w1' }))
    expect(isMlvcError(error, 'BAD_DELTA')).toBe(true)
    expect(String(error)).toBe(
      'MlvcError: layers.3.mlp.w1: malformed tensor delta: it is truncated',
    )
  })

  test('a delta for another dtype, length or base', () => {
    expectBad(good, old, { dtype: 'F16' })
    expectBad(good, old, { elements: 99 })
    expectBad(good, old.subarray(0, 396))
    expectBad(good, new Uint8Array(404))
  })

  test('bad magic, version, element size, trailing bytes, trailer', () => {
    const edit = (at: number, value: number) => {
      const copy = good.slice()
      copy[at] = value
      return copy
    }
    expectBad(edit(0, 0x4d))
    expectBad(edit(4, 2))
    expectBad(edit(5, 3))
    expectBad(new Uint8Array([...good, 0]))
    expectBad(edit(good.length - 1, (good[good.length - 1] as number) + 1))
  })

  test('records past the end and oversized varints', () => {
    const header = [0x6d, 0x6c, 0x76, 0x64, 1, 1, 4]
    expectBad(new Uint8Array([...header, 1 + 2 * 4, 0xaa, 0, 1]), new Uint8Array(4)) // index 4 of 4
    expectBad(new Uint8Array([...header, 2, 3, 1, 2, 3, 4, 5, 0, 5]), new Uint8Array(4)) // run 5
    expectBad(
      new Uint8Array([...header, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]),
      new Uint8Array(4),
    )
    expect([
      ...applyDeltaTo(new Uint8Array(4), new Uint8Array([...header, 1 + 2 * 3, 7, 0, 1])),
    ]).toEqual([0, 0, 0, 7])
  })

  propTest.prop([fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })], {
    numRuns: 500,
  })(
    'random damage gives BAD_DELTA or a tensor of the right size, never a crash',
    (at, value, tail) => {
      const damaged = new Uint8Array([...good, ...tail])
      damaged[at % damaged.length] = value
      const randomBody = new Uint8Array([...good.subarray(0, 7), ...tail])
      for (const delta of [damaged, randomBody]) {
        try {
          expect(applyDeltaTo(old, delta).length).toBe(old.length)
        } catch (err) {
          expect(isMlvcError(err, 'BAD_DELTA'), String(err)).toBe(true)
        }
      }
    },
  )
})
