import { createHash } from 'node:crypto'

/**
 * The 256 gear values of the FastCDC rolling hash. Derived, not typed in: value i is the first four
 * bytes (big-endian) of sha256("mlvc-gear-" + i). Changing this changes every chunk boundary, so the
 * golden cut points in fastcdc.test.ts pin it.
 */
export const GEAR: Int32Array = (() => {
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`mlvc-gear-${i}`).digest().readInt32BE(0)
  }
  return table
})()
