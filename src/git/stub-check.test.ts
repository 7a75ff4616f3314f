import { expect, test } from 'vitest'
import type { Manifest } from '../store/index.ts'
import { stubMismatch } from './stub-check.ts'

const stub = {
  size: 1000,
  sha256: 'ab'.repeat(32),
  id: 'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
}
const blob: Manifest = { type: 'blob', size: 1000, sha256: 'ab'.repeat(32), chunks: [] }

test('a stub agrees with the manifest its id names, or says how it differs', () => {
  expect(stubMismatch(stub, blob)).toBeUndefined()
  expect(stubMismatch(stub, { ...blob, type: 'file', parts: [], meta: null })).toBeUndefined()
  expect(stubMismatch(stub, { ...blob, size: 2048 })).toBe(
    'stub says size 1000 but its content id names 2048 bytes',
  )
  expect(stubMismatch(stub, { ...blob, sha256: 'cd'.repeat(32) })).toBe(
    `stub says sha256 ${'ab'.repeat(32)} but its content id names content with sha256 ${'cd'.repeat(32)}`,
  )
  expect(stubMismatch(stub, { type: 'part', size: 1000, chunks: [] })).toBe(
    `stub's id ${stub.id} names a part manifest, not a whole file`,
  )
})
