import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { DTYPES, type DType, dtypeSize } from '../formats/index.ts'
import { decode, decodeBigInts, decodeFloat32, decodeInto, fitsFloat32 } from './codec.ts'
import { encode, encodeInto } from './encode.ts'

/** Element bytes of random values that survive f64 exactly (no NaN, 64-bit ints within 2^53). */
function exactBytes(dtype: DType, raw: Uint8Array): Uint8Array {
  const bytes = raw.slice(0, raw.length - (raw.length % dtypeSize(dtype)))
  const n = bytes.length / dtypeSize(dtype)
  const fix = (i: number, value: number) => {
    bytes.set(encode(dtype, [value]), i * dtypeSize(dtype))
  }
  const values = decode(dtype, bytes)
  for (let i = 0; i < n; i++) {
    const v = values[i] as number
    if (Number.isNaN(v)) fix(i, 0.5)
    else if ((dtype === 'I64' || dtype === 'U64') && Math.abs(v) > 2 ** 53) fix(i, v % 2 ** 53)
    else if (dtype === 'BOOL') bytes[i] = bytes[i] === 0 ? 0 : 1
  }
  return bytes
}

describe('decode and encode', () => {
  propTest.prop([fc.constantFrom(...DTYPES), fc.uint8Array({ maxLength: 200 }), fc.nat(7)])(
    'round-trips element bytes of every dtype, at any byte offset',
    (dtype, raw, shift) => {
      const bytes = exactBytes(dtype, raw)
      const unaligned = new Uint8Array(bytes.length + shift)
      unaligned.set(bytes, shift)
      const values = decode(dtype, unaligned.subarray(shift))
      expect(Buffer.from(encode(dtype, values)).equals(Buffer.from(bytes))).toBe(true)
      const out = new Uint8Array(bytes.length + shift)
      encodeInto(dtype, values, values.length, out.subarray(shift))
      expect(Buffer.from(out.subarray(shift)).equals(Buffer.from(bytes))).toBe(true)
    },
  )

  propTest.prop([
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  ])('I64 and U64 decode to the nearest f64, as Number(bigint) does', (signed, unsigned) => {
    const i = new Uint8Array(new BigInt64Array([signed]).buffer)
    const u = new Uint8Array(new BigUint64Array([unsigned]).buffer)
    expect(decode('I64', i)[0]).toBe(Number(signed))
    expect(decode('U64', u)[0]).toBe(Number(unsigned))
    expect(decodeBigInts('I64', i)[0]).toBe(signed)
    expect(decodeBigInts('U64', u)[0]).toBe(unsigned)
  })

  test('64-bit integers saturate when encoded', () => {
    const i = decodeBigInts('I64', encode('I64', [2 ** 63, -(2 ** 64), 2 ** 62, -3.5, Number.NaN]))
    expect([...i]).toEqual([2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n, -4n, 0n])
    const u = decodeBigInts('U64', encode('U64', [2 ** 64, -1, 2 ** 63 + 2048]))
    expect([...u]).toEqual([2n ** 64n - 1n, 0n, 2n ** 63n + 2048n])
  })

  test('integers round to nearest even and saturate; NaN becomes 0', () => {
    const values = [2.5, 3.5, -2.5, -0.5, 1e10, -1e10, Number.NaN, 127.49]
    expect([...new Int8Array(encode('I8', values).buffer)]).toEqual([
      2, 4, -2, 0, 127, -128, 0, 127,
    ])
    expect([...encode('U8', values)]).toEqual([2, 4, 0, 0, 255, 0, 0, 127])
    expect([...new Int32Array(encode('I32', [2 ** 40, -(2 ** 40), 1.5]).buffer)]).toEqual([
      2 ** 31 - 1,
      -(2 ** 31),
      2,
    ])
    expect([...new Uint16Array(encode('U16', [70000, 65534.5]).buffer)]).toEqual([65535, 65534])
  })

  test('BOOL decodes any non-zero byte as 1 and encodes NaN as true', () => {
    expect([...decode('BOOL', new Uint8Array([0, 1, 2, 255]))]).toEqual([0, 1, 1, 1])
    expect([...encode('BOOL', [0, -0, 0.1, Number.NaN])]).toEqual([0, 0, 1, 1])
  })

  test('F32 and F64 keep NaN, -0 and subnormals', () => {
    const values = [-0, 2 ** -149, -3.4028234663852886e38, Number.POSITIVE_INFINITY]
    expect(Object.is(decode('F32', encode('F32', values))[0], -0)).toBe(true)
    expect([...decode('F32', encode('F32', values))]).toEqual(values)
    expect(decode('F64', encode('F64', [Number.NaN]))[0]).toBeNaN()
    expect([...decode('F32', encode('F32', [1 + 2 ** -24]))]).toEqual([1]) // a tie: to even
    expect([...decode('F32', encode('F32', [1 + 2 ** -24 + 2 ** -50]))]).toEqual([1 + 2 ** -23])
  })

  test('decodeFloat32 is offered only where f32 is exact', () => {
    for (const dtype of DTYPES)
      expect(fitsFloat32(dtype)).toBe(!/64|32/.test(dtype) || dtype === 'F32')
    const every16 = new Uint8Array(Uint16Array.from({ length: 65536 }, (_, i) => i).buffer)
    for (const dtype of ['BF16', 'F16', 'F8_E4M3', 'I16', 'U8', 'BOOL'] as const) {
      expect([...decodeFloat32(dtype, every16)]).toEqual([...decode(dtype, every16)])
    }
    expect(() => decodeFloat32('I32', new Uint8Array(4))).toThrow(/fit in f32/)
  })

  test('rejects a partial element with USAGE', () => {
    let error: unknown
    try {
      decodeInto('F32', new Uint8Array(6), new Float64Array(2))
    } catch (err) {
      error = err
    }
    expect(isMlvcError(error, 'USAGE')).toBe(true)
  })
})
