import { deflateRawSync } from 'node:zlib'
import { fc, test as fcTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { normalValues, pseudoRandomBytes } from '../test-helpers/index.ts'
import {
  BYTEGROUP,
  type DataKind,
  DEFLATE,
  decodeInto,
  decodeObject,
  elementWidth,
  encodeObject,
  MIN_ENCODED_SIZE,
  mayEncode,
  RAW,
} from './encoding.ts'

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** IEEE half precision, round to nearest (subnormals flushed: enough for a distribution). */
function toF16(x: number): number {
  f32[0] = x
  const b = u32[0] ?? 0
  const sign = (b >>> 16) & 0x8000
  const exponent = ((b >>> 23) & 0xff) - 127 + 15
  if (exponent <= 0) return sign
  const half = sign | (exponent << 10) | ((b >>> 13) & 0x3ff)
  return (b & 0x1000) !== 0 ? half + 1 : half
}

/** Weights of a kind, `bytes` long (cut at a byte, not an element). */
function weights(kind: DataKind, bytes: number, seed: number): Buffer {
  const width = elementWidth(kind)
  const values = normalValues(Math.ceil(bytes / width), seed)
  let full: Buffer
  switch (kind) {
    case 'float64':
      full = Buffer.from(values.buffer)
      break
    case 'float32':
      full = Buffer.from(Float32Array.from(values).buffer)
      break
    case 'float16':
      full = Buffer.from(Uint16Array.from(values, toF16).buffer)
      break
    case 'bytes':
      full = pseudoRandomBytes(bytes, seed)
  }
  return full.subarray(0, bytes)
}

/** bfloat16: the high halves of float32 weights. */
function bf16(bytes: number, seed: number): Buffer {
  const f32 = new Uint16Array(weights('float32', 2 * bytes + 4, seed).buffer.slice(0))
  return Buffer.from(
    Uint16Array.from({ length: Math.ceil(bytes / 2) }, (_, i) => f32[2 * i + 1] ?? 0).buffer,
  ).subarray(0, bytes)
}

function roundTrip(data: Uint8Array, kind: DataKind, phase = 0): { codec: number; stored: number } {
  const encoded = encodeObject(data, kind, phase)
  const codec = encoded?.codec ?? RAW
  const stored = encoded?.bytes ?? data
  expect(stored.length).toBeLessThanOrEqual(data.length)
  // Buffer.equals: toEqual compares large buffers element by element, slowly.
  expect(decodeObject(stored, codec, data.length).equals(data)).toBe(true)
  // Into memory at every alignment, as chunks decoded into a checkout's ring are.
  for (const offset of [0, 1, 2, 3]) {
    const into = new Uint8Array(data.length + offset).subarray(offset)
    decodeInto(stored, codec, into)
    expect(Buffer.from(into.buffer, offset).equals(data)).toBe(true)
  }
  return { codec, stored: stored.length }
}

describe('encodings round-trip byte for byte', () => {
  test('normal float weights are byte-grouped and shrink: f32, f16, bf16, f64', () => {
    for (const kind of ['float32', 'float16', 'float64'] as const) {
      const { codec, stored } = roundTrip(weights(kind, 65536, 3), kind)
      expect(codec).toBe(BYTEGROUP)
      expect(stored).toBeLessThan(65536)
    }
    const { codec, stored } = roundTrip(bf16(65536, 4), 'float16')
    expect(codec).toBe(BYTEGROUP)
    expect(stored).toBeLessThan(65536)
  })

  test('lengths that are not a multiple of the element size, and chunks cut inside an element', () => {
    for (const kind of ['float32', 'float16', 'float64'] as const) {
      for (const length of [MIN_ENCODED_SIZE + 1, 65537, 65539, 70001]) {
        const data = weights(kind, length + 7, length)
        for (let cut = 0; cut < elementWidth(kind); cut++) {
          const chunk = data.subarray(cut, cut + length)
          // The phase says where the first whole element starts; a wrong one still round-trips.
          const phase = (elementWidth(kind) - cut) % elementWidth(kind)
          expect(roundTrip(chunk, kind, phase).codec).toBe(BYTEGROUP)
          roundTrip(chunk, kind, (phase + 1) % elementWidth(kind))
        }
      }
    }
  })

  test('zeros shrink to almost nothing as floats and as bytes', () => {
    const zeros = Buffer.alloc(262144)
    for (const kind of ['float32', 'float16', 'float64', 'bytes'] as const) {
      const { stored } = roundTrip(zeros, kind)
      expect(stored).toBeLessThan(zeros.length / 50)
    }
  })

  test('text takes the general codec', () => {
    const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(500))
    expect(roundTrip(text, 'bytes').codec).toBe(DEFLATE)
  })

  test('random bytes, and random bytes said to be floats, stay raw', () => {
    for (const kind of ['float32', 'float16', 'float64', 'bytes'] as const)
      expect(encodeObject(pseudoRandomBytes(65536, 9), kind)).toBeUndefined()
  })

  test('empty and small objects stay raw', () => {
    expect(encodeObject(Buffer.alloc(0), 'bytes')).toBeUndefined()
    expect(encodeObject(Buffer.alloc(MIN_ENCODED_SIZE - 1), 'float32')).toBeUndefined()
    expect(decodeObject(Buffer.alloc(0), RAW, 0)).toEqual(Buffer.alloc(0))
  })

  fcTest.prop(
    [
      fc.constantFrom<DataKind>('bytes', 'float16', 'float32', 'float64'),
      fc.constantFrom('normal', 'zeros', 'random', 'mixed'),
      fc.integer({ min: 0, max: 70000 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 1, max: 1000 }),
    ],
    { numRuns: 40 },
  )('any data of any kind, length and phase', (kind, shape, length, phase, seed) => {
    let data: Buffer
    if (shape === 'zeros') data = Buffer.alloc(length)
    else if (shape === 'random') data = pseudoRandomBytes(length, seed)
    else data = weights(kind === 'bytes' ? 'float32' : kind, length, seed)
    if (shape === 'mixed') data.set(pseudoRandomBytes(length >> 2, seed), length >> 1)
    const { codec } = roundTrip(data, kind, phase)
    // mayEncode keeps data from the workers only when they would store it raw.
    if (!mayEncode(data, kind, phase)) expect(codec).toBe(RAW)
  })
})

describe('damaged records are CORRUPT, never a hang or a large allocation', () => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(500))
  const deflated = deflateRawSync(text)

  test('a stream that expands past the stated size', () => {
    expect(() => decodeObject(deflated, DEFLATE, text.length - 1)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/expands past/) }),
    )
  })

  test('a stream that ends early, or a stated size larger than it holds', () => {
    expect(() => decodeObject(deflated.subarray(0, 40), DEFLATE, text.length)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    )
    expect(() => decodeObject(deflated, DEFLATE, text.length + 1)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/ends early/) }),
    )
  })

  test('garbage where a stream should be', () => {
    expect(() => decodeObject(pseudoRandomBytes(5000, 1), DEFLATE, 20000)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    )
  })

  test('a size no stream of that length can decode to is refused before decoding', () => {
    expect(() => decodeObject(deflated, DEFLATE, 2 ** 32 - 1)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/cannot come/) }),
    )
    expect(() => decodeObject(deflated, DEFLATE, 0)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    )
  })

  test('an unknown codec, and a raw record whose size differs from its length', () => {
    expect(() => decodeObject(deflated, 7, text.length)).toThrow(
      expect.objectContaining({
        code: 'CORRUPT',
        message: expect.stringMatching(/unknown encoding \(7\)/),
      }),
    )
    expect(() => decodeObject(text, RAW, text.length + 1)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }),
    )
  })

  test('a byte-group record with a bad header, plane lengths or plane stream', () => {
    const data = weights('float32', 65536, 5)
    const encoded = encodeObject(data, 'float32')
    if (!encoded) throw new Error('expected an encoding')
    const bad = (edit: (b: Buffer) => void) => {
      const copy = Buffer.from(encoded.bytes)
      edit(copy)
      return () => decodeObject(copy, BYTEGROUP, data.length)
    }
    const corrupt = expect.objectContaining({ code: 'CORRUPT' })
    expect(bad((b) => (b[0] = 3))).toThrow(corrupt)
    expect(bad((b) => (b[1] = 4))).toThrow(corrupt)
    expect(bad((b) => (b[2 + 3] = 9))).toThrow(corrupt)
    expect(bad((b) => b.writeUInt32LE(b.readUInt32LE(2 + 4 + 12) + 1, 2 + 4 + 12))).toThrow(corrupt)
    expect(bad((b) => b.fill(0xff, b.length - 200))).toThrow(corrupt)
    expect(() => decodeObject(encoded.bytes.subarray(0, 100), BYTEGROUP, data.length)).toThrow(
      corrupt,
    )
    expect(() => decodeObject(encoded.bytes, BYTEGROUP, data.length + 4)).toThrow(corrupt)
  })
})
