import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  HEADER_BYTES,
  nameCipher,
  newKey,
  opener,
  openObject,
  SEALED_SEGMENT_BYTES,
  SEGMENT,
  sealedRange,
  sealedSize,
  sealObject,
} from './crypt.ts'

const key = newKey()

describe('sealed objects', () => {
  test.prop([fc.uint8Array({ maxLength: 3 * SEGMENT + 100 })], { numRuns: 20 })(
    'round-trip any bytes, at the size sealedSize says',
    (bytes) => {
      const sealed = sealObject(key, 'packs/a.pack', bytes)
      expect(sealed.length).toBe(sealedSize(bytes.length))
      expect(openObject(key, 'packs/a.pack', sealed, 'x').equals(Buffer.from(bytes))).toBe(true)
    },
  )

  it('are different each time (a random salt per object) and hide the plaintext', () => {
    const plain = Buffer.alloc(1000, 7)
    const a = sealObject(key, 'k', plain)
    const b = sealObject(key, 'k', plain)
    expect(a.equals(b)).toBe(false)
    expect(a.includes(Buffer.alloc(32, 7))).toBe(false)
  })

  it('refuse a flipped byte, another name (swap), truncation and another key', () => {
    const plain = Buffer.alloc(2 * SEGMENT + 10, 1)
    const sealed = sealObject(key, 'packs/a.pack', plain)
    const flipped = Buffer.from(sealed)
    flipped.writeUInt8(
      flipped.readUInt8(HEADER_BYTES + SEGMENT + 5) ^ 1,
      HEADER_BYTES + SEGMENT + 5,
    )
    expect(() => openObject(key, 'packs/a.pack', flipped, 'remote o: a')).toThrow(
      /remote o: a: does not decrypt with key k-[0-9a-f]{16} \(tampered, swapped or truncated, or another key\)/,
    )
    expect(() => openObject(key, 'packs/b.pack', sealed, 'b')).toThrow(/does not decrypt/)
    expect(() => openObject(newKey(), 'packs/a.pack', sealed, 'c')).toThrow(/does not decrypt/)
    // Cut at a segment boundary and the length in the header patched: the last-segment flag fails.
    const cut = Buffer.from(sealed.subarray(0, HEADER_BYTES + SEALED_SEGMENT_BYTES))
    expect(() => openObject(key, 'packs/a.pack', cut, 'd')).toThrow(
      /has \d+ bytes, its header says/,
    )
    cut.writeBigUInt64BE(BigInt(SEGMENT), 40)
    expect(() => openObject(key, 'packs/a.pack', cut, 'e')).toThrow(/does not decrypt/)
    expect(() =>
      openObject(
        key,
        'x',
        Buffer.from('plain text, not sealed at all.......................'),
        'f',
      ),
    ).toThrow(/not an mlvc-encrypted object/)
  })

  it('open any segment on its own (range reads)', () => {
    const plain = Buffer.from(Array.from({ length: 3 * SEGMENT + 17 }, (_, i) => i % 251))
    const sealed = sealObject(key, 'k', plain)
    const o = opener(key, 'k', sealed.subarray(0, HEADER_BYTES), 'k')
    const span = sealedRange(SEGMENT + 10, SEGMENT + 20, plain.length)
    expect([span.first, span.last]).toEqual([1, 2])
    const part = sealed.subarray(span.start, span.end)
    const opened = Buffer.concat([
      o.open(1, part.subarray(0, SEALED_SEGMENT_BYTES)),
      o.open(2, part.subarray(SEALED_SEGMENT_BYTES)),
    ])
    expect(opened.equals(plain.subarray(SEGMENT, 3 * SEGMENT))).toBe(true)
    const tail = sealedRange(3 * SEGMENT, 17, plain.length)
    expect(tail.end).toBe(sealed.length)
  })
})

describe('sealed names', () => {
  it('are deterministic, reversible with the key, and unreadable without it', () => {
    const names = nameCipher(key)
    const sealed = names.seal('pack-123.idx')
    expect(names.seal('pack-123.idx')).toBe(sealed)
    expect(sealed).toMatch(/^[a-z2-7]+$/)
    expect(sealed).not.toContain('pack')
    expect(names.open(sealed)).toBe('pack-123.idx')
    expect(nameCipher(newKey()).open(sealed)).toBeUndefined()
    expect(names.open('mlvc-encryption.json')).toBeUndefined()
  })
})
