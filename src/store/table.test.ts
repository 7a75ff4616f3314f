import { expect, test } from 'vitest'
import { pseudoRandomBytes } from '../test-helpers/index.ts'
import { sha256Digest } from './cid.ts'
import { createObjectTable } from './table.ts'

test('the object table finds what was added, across growth, and nothing else', () => {
  const table = createObjectTable()
  const reference = new Map<string, number>()
  for (let i = 0; i < 5000; i++) {
    const digest = sha256Digest(pseudoRandomBytes(8, i + 1))
    table.add(digest, {
      pack: i % 7,
      offset: i * 100,
      length: i + 1,
      kind: i % 3 === 0 ? 'manifest' : 'chunk',
      codec: i % 3,
      size: 2 * i + 1,
    })
    reference.set(digest.toString('hex'), i)
  }
  expect(table.size).toBe(5000)
  for (const [key, i] of reference) {
    expect(table.get(Buffer.from(key, 'hex'))).toEqual({
      pack: i % 7,
      offset: i * 100,
      length: i + 1,
      kind: i % 3 === 0 ? 'manifest' : 'chunk',
      codec: i % 3,
      size: 2 * i + 1,
    })
  }
  expect(table.get(sha256Digest(Buffer.from('absent')))).toBeUndefined()
})

test('the first location of an object wins', () => {
  const table = createObjectTable()
  const digest = sha256Digest(Buffer.from('x'))
  table.add(digest, { pack: 1, offset: 10, length: 1, kind: 'chunk', codec: 0, size: 1 })
  table.add(digest, { pack: 2, offset: 20, length: 1, kind: 'chunk', codec: 0, size: 1 })
  expect(table.size).toBe(1)
  expect(table.get(digest)?.pack).toBe(1)
})

test('set moves an object to a new location (a good copy replacing a damaged one) or adds it', () => {
  const table = createObjectTable()
  const digest = sha256Digest(Buffer.from('x'))
  const other = sha256Digest(Buffer.from('y'))
  table.set(other, { pack: 0, offset: 5, length: 1, kind: 'manifest', codec: 0, size: 1 })
  table.add(digest, { pack: 1, offset: 10, length: 1, kind: 'chunk', codec: 0, size: 1 })
  table.set(digest, { pack: 3, offset: 30, length: 1, kind: 'chunk', codec: 0, size: 1 })
  expect(table.size).toBe(2)
  expect(table.get(digest)).toEqual({
    pack: 3,
    offset: 30,
    length: 1,
    kind: 'chunk',
    codec: 0,
    size: 1,
  })
  expect(table.get(other)).toEqual({
    pack: 0,
    offset: 5,
    length: 1,
    kind: 'manifest',
    codec: 0,
    size: 1,
  })
})
