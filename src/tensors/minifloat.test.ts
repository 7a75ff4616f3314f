import { createHash } from 'node:crypto'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { decode, decodeInto } from './codec.ts'
import { encode } from './encode.ts'
import {
  BF16,
  decodeMiniFloat,
  encodeMiniFloat,
  F8_E4M3,
  F8_E5M2,
  F16,
  type MiniFloat,
  pow2,
} from './minifloat.ts'
import { fixture, fixtureJSON } from './test-helpers/index.ts'

const FORMATS = [F16, BF16, F8_E4M3, F8_E5M2] as const
const widthOf = (f: MiniFloat) => 1 + f.exponentBits + f.mantissaBits

/** Every bit pattern of the format, as element bytes. */
function allPatterns(f: MiniFloat): Uint8Array {
  const n = 1 << widthOf(f)
  if (widthOf(f) === 8) return Uint8Array.from({ length: n }, (_, i) => i)
  return new Uint8Array(Uint16Array.from({ length: n }, (_, i) => i).buffer)
}

function bitsOf(f: MiniFloat, bytes: Uint8Array): Uint16Array | Uint8Array {
  return widthOf(f) === 8
    ? bytes
    : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
}

describe.each(FORMATS.map((f) => [f.dtype, f] as const))('%s', (_name, f) => {
  test('decode then encode is the identity on every non-NaN bit pattern', () => {
    const patterns = allPatterns(f)
    const values = decode(f.dtype, patterns)
    const back = bitsOf(f, encode(f.dtype, values))
    const bits = bitsOf(f, patterns)
    let nans = 0
    for (let i = 0; i < bits.length; i++) {
      if (Number.isNaN(values[i])) {
        nans++
        expect(back[i]).toBe(f.nan)
      } else if (back[i] !== bits[i]) {
        expect.fail(`pattern ${bits[i]} (${values[i]}) came back as ${back[i]}`)
      }
    }
    const mantissa = 2 ** f.mantissaBits
    expect(nans).toBe(f.infinities ? 2 * (mantissa - 1) : 2)
  })

  test('decodes every bit pattern as ml_dtypes does', () => {
    const values = decode(f.dtype, allPatterns(f))
    const words = new BigUint64Array(values.buffer)
    values.forEach((v, i) => {
      if (Number.isNaN(v)) words[i] = 0x7ff8000000000000n
    })
    const expected = fixtureJSON<{ decodeSha256: Record<string, string> }>('minifloat.json')
      .decodeSha256[f.dtype]
    expect(createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex')).toBe(expected)
  })

  test('rounds f64 values exactly as the rational reference (ties, subnormals, overflow)', () => {
    const data = fixture(`round-${f.dtype}.bin`)
    const n = data.length / 10
    const inputs = new Float64Array(data.buffer.slice(data.byteOffset, data.byteOffset + 8 * n))
    const expected = new Uint16Array(
      data.buffer.slice(data.byteOffset + 8 * n, data.byteOffset + 10 * n),
    )
    expect(n).toBeGreaterThan(1000)
    const got = bitsOf(f, encode(f.dtype, inputs))
    for (let i = 0; i < n; i++) {
      if (got[i] !== expected[i]) expect.fail(`${inputs[i]} → ${got[i]}, expected ${expected[i]}`)
    }
  })

  /** The representable neighbours of a bit pattern, in value order. */
  const neighbours = (bits: number) =>
    [bits - 1, bits + 1].filter((b) => b >= 0 && b < 1 << widthOf(f))

  propTest.prop([fc.double({ noNaN: true, min: -1e6, max: 1e6 })])(
    'encodes to a nearest value, the even one on a tie',
    (x) => {
      const bits = encodeMiniFloat(f, x)
      const v = decodeMiniFloat(f, bits)
      if (!Number.isFinite(v)) return
      const error = Math.abs(v - x)
      for (const other of neighbours(bits)) {
        const w = decodeMiniFloat(f, other)
        if (!Number.isFinite(w) || Math.sign(w) * Math.sign(v) < 0) continue
        const otherError = Math.abs(w - x)
        expect(error).toBeLessThanOrEqual(otherError)
        if (error === otherError && v !== 0) expect(bits % 2).toBe(0)
      }
    },
  )

  propTest.prop([fc.double({ noNaN: true }), fc.double({ noNaN: true })])(
    'is monotonic',
    (x, y) => {
      const [lo, hi] = x <= y ? [x, y] : [y, x]
      const a = decodeMiniFloat(f, encodeMiniFloat(f, lo))
      const b = decodeMiniFloat(f, encodeMiniFloat(f, hi))
      if (!Number.isNaN(a) && !Number.isNaN(b)) expect(a).toBeLessThanOrEqual(b)
    },
  )
})

describe('special values', () => {
  test('F16', () => {
    expect(encodeMiniFloat(F16, 65504)).toBe(0x7bff)
    expect(encodeMiniFloat(F16, 65519.99)).toBe(0x7bff)
    expect(encodeMiniFloat(F16, 65520)).toBe(0x7c00) // the tie above the largest rounds to even: Inf
    expect(encodeMiniFloat(F16, -1e9)).toBe(0xfc00)
    expect(encodeMiniFloat(F16, 2 ** -24)).toBe(1)
    expect(encodeMiniFloat(F16, 2 ** -25)).toBe(0) // tie between 0 and the smallest subnormal
    expect(encodeMiniFloat(F16, 2 ** -25 + 2 ** -40)).toBe(1)
    expect(encodeMiniFloat(F16, -0)).toBe(0x8000)
    expect(encodeMiniFloat(F16, Number.NaN)).toBe(0x7e00)
    expect(decodeMiniFloat(F16, 0x3c00)).toBe(1)
    expect(decodeMiniFloat(F16, 0x0001)).toBe(2 ** -24)
  })

  test('BF16 rounds once from f64 (going through f32 would round twice)', () => {
    // 1 + 2^-8 + 2^-40 lies just above the tie between 1 and 1 + 2^-7; via f32 it becomes the
    // tie itself and rounds down to even.
    expect(encodeMiniFloat(BF16, 1 + 2 ** -8 + 2 ** -40)).toBe(0x3f81)
    expect(encodeMiniFloat(BF16, Math.fround(1 + 2 ** -8 + 2 ** -40))).toBe(0x3f80)
    expect(encodeMiniFloat(BF16, 3.389e38)).toBe(0x7f7f)
    expect(encodeMiniFloat(BF16, 3.4e38)).toBe(0x7f80)
    expect(encodeMiniFloat(BF16, 1e39)).toBe(0x7f80)
  })

  test('F8_E4M3 has no infinities: overflow and Inf become NaN', () => {
    expect(encodeMiniFloat(F8_E4M3, 448)).toBe(0x7e)
    expect(encodeMiniFloat(F8_E4M3, 464)).toBe(0x7e) // the tie rounds to even, 448
    expect(encodeMiniFloat(F8_E4M3, 470)).toBe(0x7f)
    expect(encodeMiniFloat(F8_E4M3, 500)).toBe(0x7f) // would carry into the sign bit
    expect(encodeMiniFloat(F8_E4M3, -500)).toBe(0xff)
    expect(encodeMiniFloat(F8_E4M3, Number.POSITIVE_INFINITY)).toBe(0x7f)
    expect(encodeMiniFloat(F8_E4M3, Number.NEGATIVE_INFINITY)).toBe(0xff)
    expect(decodeMiniFloat(F8_E4M3, 0x7f)).toBeNaN()
    expect(decodeMiniFloat(F8_E4M3, 0x78)).toBe(256) // exponent 1111 is finite in e4m3fn
    expect(decodeMiniFloat(F8_E4M3, 0x01)).toBe(2 ** -9)
  })

  test('F8_E5M2', () => {
    expect(encodeMiniFloat(F8_E5M2, 57344)).toBe(0x7b)
    expect(encodeMiniFloat(F8_E5M2, 61440)).toBe(0x7c) // tie with 65536: even, so Inf
    expect(decodeMiniFloat(F8_E5M2, 0x7c)).toBe(Number.POSITIVE_INFINITY)
    expect(decodeMiniFloat(F8_E5M2, 0x7d)).toBeNaN()
  })

  propTest.prop([fc.integer({ min: 0, max: 0xffffffff })])(
    'f32 to BF16 agrees with the integer rounding formula on f32 bits',
    (u) => {
      const f32 = new Float32Array(new Uint32Array([u]).buffer)
      if (Number.isNaN(f32[0])) return
      const expected = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16
      expect(encodeMiniFloat(BF16, f32[0] as number)).toBe(expected & 0xffff)
    },
  )

  test('pow2 is exact across the f64 range', () => {
    expect(pow2(0)).toBe(1)
    expect(pow2(-1074)).toBe(5e-324)
    expect(pow2(1023)).toBe(2 ** 1023)
    expect(pow2(-1022)).toBe(2 ** -1022)
  })

  test('decodes into an offset of the output', () => {
    const out = new Float64Array(4).fill(7)
    decodeInto('F16', new Uint8Array([0x00, 0x3c, 0x00, 0xc0]), out, 1)
    expect([...out]).toEqual([7, 1, -2, 7])
  })
})
