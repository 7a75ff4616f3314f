import { createCipheriv, createHash } from 'node:crypto'

/** Largest block one call returns; generators write in blocks of this size. */
export const BLOCK = 8 << 20

export type Keystream = (length: number) => Buffer

/**
 * Deterministic pseudo-random bytes: AES-256-CTR over zeros, keyed by sha256(seed). Same seed,
 * same bytes on every machine, so cached inputs and their ids are reproducible; AES-NI makes it
 * about as fast as crypto.randomFillSync. Each call returns the next `length` (≤ BLOCK) bytes.
 */
export function keystream(seed: string): Keystream {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(BLOCK)
  return (length) => {
    if (length > BLOCK) throw new RangeError(`keystream block over ${BLOCK} bytes`)
    return cipher.update(zeros.subarray(0, length))
  }
}
