import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import { base32Decode, base32Encode, MlvcError } from '../core/index.ts'

/**
 * Client-side encryption of remote objects, seekable so that range reads still work:
 *
 *   header  = "MLVCENC1" (8) · salt (32, random per object) · plaintext length (8, big-endian)
 *   segment = AES-256-GCM(key = HKDF(master, salt, "mlvc data v1"), nonce = segment number (12, BE),
 *             aad = header · object name · last-segment flag) of 64 KiB of plaintext · tag (16)
 *
 * A random salt per object gives each object its own key, so segment numbers never repeat a nonce.
 * The name in the AAD makes an object moved to another name fail authentication (no swapping); the
 * header in the AAD pins the length, and the last-segment flag catches a truncation at a segment
 * boundary. Anything that does not authenticate is refused before a byte of it is used.
 */
export const SEGMENT = 64 * 1024
const TAG = 16
const MAGIC = Buffer.from('MLVCENC1')
export const HEADER_BYTES = MAGIC.length + 32 + 8
const SEALED_SEGMENT = SEGMENT + TAG

export interface MasterKey {
  /** A short public fingerprint ("k-" and 16 hex digits) that names the key in config and errors. */
  id: string
  secret: Buffer
}

function derive(secret: Buffer, salt: Buffer | string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32))
}

export function keyFromSecret(secret: Buffer): MasterKey {
  if (secret.length !== 32) throw new MlvcError('BAD_CONFIG', 'an mlvc key is 32 bytes')
  return { id: `k-${derive(secret, '', 'mlvc key id v1').subarray(0, 8).toString('hex')}`, secret }
}

export function newKey(): MasterKey {
  return keyFromSecret(randomBytes(32))
}

/** Ciphertext size of `plain` bytes of plaintext. */
export function sealedSize(plain: number): number {
  const segments = Math.max(1, Math.ceil(plain / SEGMENT))
  return HEADER_BYTES + plain + segments * TAG
}

function nonce(segment: number): Buffer {
  const out = Buffer.alloc(12)
  out.writeUIntBE(segment, 6, 6)
  return out
}

function segmentCount(plain: number): number {
  return Math.max(1, Math.ceil(plain / SEGMENT))
}

function aad(header: Buffer, name: string, last: boolean): Buffer {
  return Buffer.concat([header, Buffer.from(name), Buffer.from([last ? 1 : 0])])
}

export interface Sealer {
  header: Buffer
  /** Seals segment `index` (SEGMENT bytes, or fewer for the last). */
  seal(index: number, plain: Uint8Array): Buffer
}

/** Starts sealing an object of `length` bytes stored under `name`. */
export function sealer(key: MasterKey, name: string, length: number): Sealer {
  const salt = randomBytes(32)
  const header = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(header)
  salt.copy(header, MAGIC.length)
  header.writeBigUInt64BE(BigInt(length), MAGIC.length + 32)
  const dataKey = derive(key.secret, salt, 'mlvc data v1')
  const last = segmentCount(length) - 1
  return {
    header,
    seal(index, plain) {
      const cipher = createCipheriv('aes-256-gcm', dataKey, nonce(index))
      cipher.setAAD(aad(header, name, index === last))
      const out = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
      return out
    },
  }
}

/** Seals a whole small object. */
export function sealObject(key: MasterKey, name: string, plain: Uint8Array): Buffer {
  const s = sealer(key, name, plain.length)
  const parts = [s.header]
  for (let i = 0; i < segmentCount(plain.length); i++) {
    parts.push(s.seal(i, plain.subarray(i * SEGMENT, (i + 1) * SEGMENT)))
  }
  return Buffer.concat(parts)
}

export interface Opener {
  /** Plaintext length the header states. */
  length: number
  /** Opens sealed segment `index`; throws CORRUPT naming `where` if it does not authenticate. */
  open(index: number, sealed: Uint8Array): Buffer
}

/** Reads an object's header; `where` names it in errors. */
export function opener(key: MasterKey, name: string, header: Uint8Array, where: string): Opener {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength)
  if (h.length < HEADER_BYTES || !h.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new MlvcError('CORRUPT', `${where}: not an mlvc-encrypted object (bad header)`, {
      hint: 'the remote holds plaintext or foreign data under an encrypted remote’s name',
    })
  }
  const head = Buffer.from(h.subarray(0, HEADER_BYTES))
  const length = Number(head.readBigUInt64BE(MAGIC.length + 32))
  const dataKey = derive(key.secret, head.subarray(MAGIC.length, MAGIC.length + 32), 'mlvc data v1')
  const last = segmentCount(length) - 1
  return {
    length,
    open(index, sealed) {
      const expected = index < last ? SEALED_SEGMENT : length - last * SEGMENT + TAG
      if (index > last || sealed.length !== expected) {
        throw new MlvcError(
          'CORRUPT',
          `${where}: encrypted segment ${index} is truncated or out of range`,
        )
      }
      const decipher = createDecipheriv('aes-256-gcm', dataKey, nonce(index))
      decipher.setAAD(aad(head, name, index === last))
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG))
      try {
        // GCM's final() only checks the tag (it returns no bytes): update's output is the plaintext.
        const plain = decipher.update(sealed.subarray(0, sealed.length - TAG))
        decipher.final()
        return plain
      } catch (err) {
        throw new MlvcError(
          'CORRUPT',
          `${where}: does not decrypt with key ${key.id} (tampered, swapped or truncated, or another key)`,
          {
            cause: err,
            hint: 'nothing of it was used; if the key is right, push the object again from a clone that has it',
          },
        )
      }
    },
  }
}

/** Opens a whole sealed object. */
export function openObject(
  key: MasterKey,
  name: string,
  sealed: Uint8Array,
  where: string,
): Buffer {
  const o = opener(key, name, sealed.subarray(0, HEADER_BYTES), where)
  if (sealed.length !== sealedSize(o.length)) {
    throw new MlvcError(
      'CORRUPT',
      `${where}: encrypted object has ${sealed.length} bytes, its header says ${sealedSize(o.length)}`,
    )
  }
  const parts: Buffer[] = []
  for (let i = 0; i < segmentCount(o.length); i++) {
    const start = HEADER_BYTES + i * SEALED_SEGMENT
    parts.push(o.open(i, sealed.subarray(start, Math.min(sealed.length, start + SEALED_SEGMENT))))
  }
  return Buffer.concat(parts)
}

/** Where plaintext bytes [offset, offset+length) lie in the sealed object: whole segments. */
export function sealedRange(
  offset: number,
  length: number,
  plainLength: number,
): { first: number; last: number; start: number; end: number } {
  const first = Math.floor(offset / SEGMENT)
  const last = Math.floor((offset + Math.max(1, length) - 1) / SEGMENT)
  const start = HEADER_BYTES + first * SEALED_SEGMENT
  const lastSegment = segmentCount(plainLength) - 1
  const end =
    last >= lastSegment ? sealedSize(plainLength) : HEADER_BYTES + (last + 1) * SEALED_SEGMENT
  return { first, last, start, end }
}

export const SEALED_SEGMENT_BYTES = SEALED_SEGMENT

/**
 * Deterministic authenticated encryption of key names (SIV with HMAC-SHA256 and AES-256-CTR): the
 * same name always gives the same ciphertext (lookups and listings work) and the provider learns
 * only equality. `v = HMAC(kmac, name)[0..16]`, `c = AES-CTR(kenc, iv = v, name)`, text = base32(v·c).
 */
export interface NameCipher {
  seal(segment: string): string
  /** undefined when `text` is not a name sealed with this key. */
  open(text: string): string | undefined
}

export function nameCipher(key: MasterKey): NameCipher {
  const macKey = derive(key.secret, '', 'mlvc name mac v1')
  const encKey = derive(key.secret, '', 'mlvc name enc v1')
  const tag = (plain: Buffer) => createHmac('sha256', macKey).update(plain).digest().subarray(0, 16)
  return {
    seal(segment) {
      const plain = Buffer.from(segment)
      const iv = tag(plain)
      const c = createCipheriv('aes-256-ctr', encKey, iv)
      return base32Encode(Buffer.concat([iv, c.update(plain), c.final()]))
    },
    open(text) {
      const data = base32Decode(text)
      if (!data || data.length < 16) return undefined
      const iv = data.subarray(0, 16)
      const d = createDecipheriv('aes-256-ctr', encKey, iv)
      const plain = Buffer.concat([d.update(data.subarray(16)), d.final()])
      return timingSafeEqual(tag(plain), iv) ? plain.toString() : undefined
    },
  }
}
