import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { base32Decode, base32Encode, base32Value, MlvcError } from '../core/index.ts'

/** What an object holds; the CID's codec says it (raw bytes, or a JSON manifest). */
export type ObjectKind = 'chunk' | 'manifest'

const JSON_CODEC = 0x0200

function kindOf(codec: number, id: string): ObjectKind {
  if (codec === raw.code) return 'chunk'
  if (codec === JSON_CODEC) return 'manifest'
  throw new MlvcError('BAD_ID', `${id}: not an mlvc object id (codec 0x${codec.toString(16)})`)
}

/** A parsed object id: its kind and the 32-byte sha-256 digest of its bytes. */
export interface ObjectId {
  kind: ObjectKind
  digest: Uint8Array
}

const PREFIXES: Record<ObjectKind, Buffer> = {
  // CIDv1 | codec varint | sha2-256 (0x12) | length 32
  chunk: Buffer.from([0x01, 0x55, 0x12, 0x20]),
  manifest: Buffer.from([0x01, 0x80, 0x04, 0x12, 0x20]),
}

/**
 * CIDv1, multihash sha2-256, multibase base32 (`bafkrei…` for chunks, `bagaaiera…` for
 * manifests); equal to multiformats' `CID.toString()`, which the tests check. Encoded here because
 * that one builds the string a character at a time, and a manifest of 55,000 chunks then held
 * 100 MB of string fragments.
 */
export function formatId(kind: ObjectKind, digest: Uint8Array): string {
  return `b${base32Encode(digest, PREFIXES[kind])}`
}

/** Decodes the base32 body (after the multibase 'b') of one of our two CID kinds, or undefined. */
function decodeOurs(id: string): ObjectId | undefined {
  if ((id.length !== 59 && id.length !== 61) || id.charCodeAt(0) !== 0x62) return undefined
  const bytes = base32Decode(id, 1)
  if (!bytes) return undefined
  for (const kind of ['chunk', 'manifest'] as const) {
    const prefix = PREFIXES[kind]
    if (bytes.length === prefix.length + 32 && bytes.subarray(0, prefix.length).equals(prefix)) {
      return { kind, digest: Uint8Array.from(bytes.subarray(prefix.length)) }
    }
  }
  return undefined
}

/** The fixed start of our ids of each kind (the multibase code and the CID prefix's bits). */
const STARTS: Record<ObjectKind, { text: string; length: number; padBits: number }> = {
  chunk: { text: 'bafkrei', length: 59, padBits: 2 },
  manifest: { text: 'bagaaiera', length: 61, padBits: 4 },
}

/**
 * Whether `id` names an object of `kind`: `parseId(id).kind === kind` without decoding it. Ids in
 * the form mlvc writes are checked character by character (a manifest may list 200,000 of them);
 * any other form goes through parseId.
 */
export function isIdOf(kind: ObjectKind, id: string): boolean {
  const start = STARTS[kind]
  if (id.length === start.length && id.startsWith(start.text)) {
    const seventh = base32Value(id.charCodeAt(7))
    let ok = kind === 'manifest' || (seventh >= 0 && seventh < 8)
    for (let i = start.text.length; ok && i < id.length; i++)
      ok = base32Value(id.charCodeAt(i)) >= 0
    const last = base32Value(id.charCodeAt(id.length - 1))
    if (ok && (last & ((1 << start.padBits) - 1)) === 0) return true
  }
  try {
    return parseId(id).kind === kind
  } catch {
    return false
  }
}

export function parseId(id: string): ObjectId {
  // The two forms mlvc writes are decoded directly (manifests list thousands of ids); anything
  // else goes through multiformats, which also explains what is wrong.
  const ours = decodeOurs(id)
  if (ours && formatId(ours.kind, ours.digest) === id) return ours
  let cid: CID
  try {
    cid = CID.parse(id.trim())
  } catch (err) {
    throw new MlvcError('BAD_ID', `"${id}" is not a valid object id`, {
      cause: err,
      hint: 'ids are CIDv1 strings as printed by mlvc put, for example bagaaiera…',
    })
  }
  if (cid.version !== 1 || cid.multihash.code !== sha256.code || cid.multihash.size !== 32) {
    throw new MlvcError('BAD_ID', `${id}: not a CIDv1 with a sha2-256 multihash`)
  }
  return { kind: kindOf(cid.code, id), digest: cid.multihash.digest }
}

export function sha256Digest(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

export function idOf(kind: ObjectKind, data: Uint8Array): string {
  return formatId(kind, sha256Digest(data))
}

export function hex(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex')
}
