import { expect, test } from 'vitest'
import { sha256Digest } from './cid.ts'
import { decodeIdx, encodeIdx, type IdxEntry } from './idx.ts'

const entries: IdxEntry[] = [3, 1, 2].map((n) => ({
  digest: sha256Digest(Buffer.from([n])),
  kind: n === 2 ? 'manifest' : 'chunk',
  offset: n * 2 ** 33,
  length: n * 1000,
  codec: n - 1,
  size: n * 3000,
}))

test('an index round-trips, sorted by digest', () => {
  const decoded = decodeIdx(encodeIdx(entries), 'test.idx', true)
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.digest, b.digest))
  expect(decoded.map((e) => ({ ...e, digest: Buffer.from(e.digest) }))).toEqual(
    sorted.map((e) => ({ ...e, digest: Buffer.from(e.digest) })),
  )
})

test('a flipped bit, a truncation or a foreign file is caught', () => {
  const data = encodeIdx(entries)
  const flipped = Buffer.from(data)
  flipped[20] = (flipped[20] ?? 0) ^ 1
  expect(() => decodeIdx(flipped, 'x.idx', true)).toThrow(/x.idx: pack index checksum mismatch/)
  expect(() => decodeIdx(data.subarray(0, data.length - 5), 'x.idx')).toThrow(/truncated/)
  expect(() =>
    decodeIdx(Buffer.from('hello world, not an index at all!!!!!!!!!!!!!'), 'x.idx'),
  ).toThrow(/not an mlvc pack index/)
})

test('thousands of entries, some sharing their first bytes, come out sorted', () => {
  const many: IdxEntry[] = Array.from({ length: 5000 }, (_, i) => {
    const digest = sha256Digest(Buffer.from(`object ${i}`))
    // Every tenth shares its first two bytes with others, so buckets hold several entries.
    if (i % 10 === 0) digest.set([0xab, 0xcd], 0)
    return { digest, kind: 'chunk', offset: i * 100, length: i + 1, codec: 0, size: i + 1 }
  })
  const data = encodeIdx(many)
  const decoded = decodeIdx(data, 'many.idx', true)
  const sorted = [...many].sort((a, b) => Buffer.compare(a.digest, b.digest))
  expect(decoded.map((e) => Buffer.from(e.digest).toString('hex'))).toEqual(
    sorted.map((e) => Buffer.from(e.digest).toString('hex')),
  )
  expect(decoded.map((e) => e.offset)).toEqual(sorted.map((e) => e.offset))
})
