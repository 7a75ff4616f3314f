import { fc, test as propTest } from '@fast-check/vitest'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { formatId, idOf, isIdOf, parseId, sha256Digest } from './cid.ts'

describe('object ids', () => {
  test('golden vectors: CIDv1, sha2-256, base32', () => {
    // The first is the well-known IPFS CIDv1 (raw) of "hello world".
    expect(idOf('chunk', Buffer.from('hello world'))).toBe(
      'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
    )
    expect(idOf('chunk', Buffer.alloc(0))).toBe(
      'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    )
    expect(idOf('manifest', Buffer.from('{}'))).toBe(
      'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
    )
  })

  test('agrees with the multiformats reference hasher', async () => {
    const data = Buffer.from('a tensor is a set of numbers')
    const reference = CID.create(1, raw.code, await sha256.digest(data)).toString()
    expect(idOf('chunk', data)).toBe(reference)
  })

  test('formatId equals multiformats CID.toString for both kinds and many digests', async () => {
    const Digest = await import('multiformats/hashes/digest')
    for (let i = 0; i < 200; i++) {
      const digest = sha256Digest(Buffer.from([i, i >> 3]))
      expect(formatId('chunk', digest)).toBe(
        CID.create(1, raw.code, Digest.create(sha256.code, digest)).toString(),
      )
      expect(formatId('manifest', digest)).toBe(
        CID.create(1, 0x0200, Digest.create(sha256.code, digest)).toString(),
      )
    }
  })

  test('parses back to kind and digest', () => {
    const digest = sha256Digest(Buffer.from('x'))
    const parsed = parseId(formatId('manifest', digest))
    expect(parsed.kind).toBe('manifest')
    expect(Buffer.from(parsed.digest).equals(digest)).toBe(true)
  })

  test.each([
    ['garbage', 'not-a-cid'],
    ['CIDv0', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'],
    ['another codec', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'],
  ])('rejects %s with BAD_ID', (_name, id) => {
    let error: unknown
    try {
      parseId(id)
    } catch (err) {
      error = err
    }
    expect(isMlvcError(error, 'BAD_ID')).toBe(true)
  })
})

describe('isIdOf', () => {
  const kindOf = (id: string) => {
    try {
      return parseId(id).kind
    } catch {
      return undefined
    }
  }

  propTest.prop([
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.constantFrom('chunk', 'manifest'),
    fc.nat(),
    fc.constantFrom('', 'a', 'q', '7', 'B', '=', 'z'),
  ])(
    'agrees with parseId on ids and on ids with one character changed, added or removed',
    (digest, kind, at, char) => {
      const id = formatId(kind, digest)
      const i = at % (id.length + 1)
      for (const text of [
        id,
        id.slice(0, i) + char + id.slice(i + 1),
        id.slice(0, i) + char + id.slice(i),
        id.slice(0, i) + id.slice(i + 1),
      ]) {
        for (const k of ['chunk', 'manifest'] as const)
          expect(isIdOf(k, text)).toBe(kindOf(text) === k)
      }
    },
  )

  test('other forms parseId reads are judged by it', () => {
    const id = formatId('chunk', sha256Digest(Buffer.from('x')))
    expect(isIdOf('chunk', id.toUpperCase())).toBe(kindOf(id.toUpperCase()) === 'chunk')
    expect(isIdOf('manifest', 'not-a-cid')).toBe(false)
    expect(isIdOf('chunk', formatId('manifest', sha256Digest(Buffer.from('x'))))).toBe(false)
  })
})
