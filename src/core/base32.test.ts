import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { base32Decode, base32Encode } from './base32.ts'

describe('base32', () => {
  it('matches RFC 4648 test vectors (lowercase, no padding)', () => {
    const vectors = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar']
    const expected = ['', 'my', 'mzxq', 'mzxw6', 'mzxw6yq', 'mzxw6ytb', 'mzxw6ytboi']
    expect(vectors.map((v) => base32Encode(Buffer.from(v)))).toEqual(expected)
    expect(expected.map((e) => base32Decode(e)?.toString())).toEqual(vectors)
  })

  it('refuses characters outside the alphabet', () => {
    expect(base32Decode('mzx!')).toBeUndefined()
    expect(base32Decode('MZXW6')).toBeUndefined()
  })

  test.prop([fc.uint8Array({ maxLength: 300 })])('round-trips any bytes', (bytes) => {
    expect(base32Decode(base32Encode(bytes))?.equals(Buffer.from(bytes))).toBe(true)
  })
})
