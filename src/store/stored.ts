import { isMlvcError, matchesDigest } from '../core/index.ts'
import { decodeObject, type Encoding } from './encoding.ts'

/**
 * An object's raw bytes from its stored bytes (decoded as `encoding` says), or undefined when they
 * do not decode to the bytes its digest names: any damage, which decoding finds without
 * allocating past the stated size. On the calling thread: for single small objects (manifests).
 */
export function decodeStored(
  stored: Uint8Array,
  encoding: Encoding,
  digest: Uint8Array,
): Buffer | undefined {
  let data: Buffer
  try {
    data = decodeObject(stored, encoding.codec, encoding.size)
  } catch (err) {
    if (isMlvcError(err, 'CORRUPT')) return undefined
    throw err
  }
  return matchesDigest(data, digest) ? data : undefined
}

/** True when an object's stored bytes decode to the bytes its digest names (see decodeStored). */
export function storedMatches(stored: Uint8Array, encoding: Encoding, digest: Uint8Array): boolean {
  return decodeStored(stored, encoding, digest) !== undefined
}
