/** RFC 4648 base32, lowercase, without padding (the alphabet of CIDv1's multibase 'b'). */
const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyz234567', 'latin1')
const VALUES = new Int8Array(128).fill(-1)
ALPHABET.forEach((code, value) => {
  VALUES[code] = value
})
const EMPTY = new Uint8Array(0)

/** The value of a base32 character (its char code), or -1 if it is not in the alphabet. */
export function base32Value(charCode: number): number {
  return VALUES[charCode] ?? -1
}

// Ids are encoded by the hundred thousand (a checkpoint's manifests): short ones go through one
// reused buffer instead of an allocation each.
const SCRATCH = Buffer.alloc(128)

/** Encodes `prefix` followed by `bytes` (a CID's prefix and digest) without joining them first. */
export function base32Encode(bytes: Uint8Array, prefix: Uint8Array = EMPTY): string {
  const total = prefix.length + bytes.length
  const length = Math.ceil((total * 8) / 5)
  const out = length <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(length)
  let bits = 0
  let value = 0
  let pos = 0
  // In range: i < total, and every alphabet index is masked to 0..31. Ids are encoded by the
  // hundred thousand: these reads stay unchecked.
  for (let i = 0; i < total; i++) {
    const byte = (i < prefix.length ? prefix[i] : bytes[i - prefix.length]) as number
    value = ((value << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out[pos++] = ALPHABET[(value >>> (bits - 5)) & 31] as number
      bits -= 5
    }
  }
  if (bits > 0) out[pos++] = ALPHABET[(value << (5 - bits)) & 31] as number
  return out.toString('latin1', 0, pos)
}

/** Decodes `text` from `start`; undefined if a character is not in the alphabet. */
export function base32Decode(text: string, start = 0): Buffer | undefined {
  const out = Buffer.allocUnsafe(Math.floor(((text.length - start) * 5) / 8))
  let bits = 0
  let value = 0
  let pos = 0
  for (let i = start; i < text.length; i++) {
    const v = VALUES[text.charCodeAt(i)] ?? -1
    if (v < 0) return undefined
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[pos++] = (value >>> bits) & 0xff
    }
  }
  return out.subarray(0, pos)
}
