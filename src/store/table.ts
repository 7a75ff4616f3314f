import type { ObjectKind } from './cid.ts'
import { RAW } from './encoding.ts'
import type { IdxEntry } from './idx.ts'

/**
 * Where an object's stored bytes are: pack number (in the store's pack list), offset and length;
 * and how they encode the object's `size` raw bytes (`codec`, see encoding.ts).
 */
export interface Location {
  pack: number
  offset: number
  length: number
  kind: ObjectKind
  codec: number
  size: number
}

/**
 * An in-memory map from 32-byte digests to locations: open addressing with linear probing over
 * flat typed arrays, about 75 bytes per object, so a store of a million chunks (64 GiB) costs 75 MB.
 */
export interface ObjectTable {
  readonly size: number
  get(digest: Uint8Array): Location | undefined
  /** Adds the object unless it is present already (the first location wins). */
  add(digest: Uint8Array, location: Location): void
  /** Adds the object, or moves it to this location (a good copy replacing a damaged one). */
  set(digest: Uint8Array, location: Location): void
}

/** Adds the objects a pack's index lists, as stored in pack number `pack`. */
export function addPackEntries(
  table: ObjectTable,
  pack: number,
  entries: readonly IdxEntry[],
): void {
  for (const { digest, offset, length, kind, codec, size } of entries)
    table.add(digest, { pack, offset, length, kind, codec, size })
}

export function createObjectTable(): ObjectTable {
  let capacity = 0
  let count = 0
  let digests = Buffer.alloc(0)
  let offsets = new Float64Array(0)
  let lengths = new Uint32Array(0)
  let sizes = new Uint32Array(0)
  let codecs = new Uint8Array(0)
  let packs = new Uint32Array(0)
  let kinds = new Uint8Array(0)
  let slots = new Int32Array(0)

  // Called for every object a command stores or reads (400,000 for a checkpoint of 200,000
  // tensors, and every entry of every index when a store opens): no allocation, no native call;
  // different digests almost always differ in their first byte.
  function findSlot(digest: Uint8Array): number {
    const mask = slots.length - 1
    const head =
      ((digest[0] ?? 0) |
        ((digest[1] ?? 0) << 8) |
        ((digest[2] ?? 0) << 16) |
        ((digest[3] ?? 0) << 24)) >>>
      0
    let slot = head & mask
    for (;;) {
      const entry = slots[slot] ?? 0
      if (entry === 0) return slot
      const at = (entry - 1) * 32
      let k = 0
      while (k < 32 && digests[at + k] === digest[k]) k++
      if (k === 32) return slot
      slot = (slot + 1) & mask
    }
  }

  function grow(): void {
    const next = Math.max(1024, capacity * 2)
    const d = Buffer.alloc(next * 32)
    digests.copy(d, 0, 0, count * 32)
    digests = d
    offsets = copyInto(new Float64Array(next), offsets)
    lengths = copyInto(new Uint32Array(next), lengths)
    sizes = copyInto(new Uint32Array(next), sizes)
    codecs = copyInto(new Uint8Array(next), codecs)
    packs = copyInto(new Uint32Array(next), packs)
    kinds = copyInto(new Uint8Array(next), kinds)
    capacity = next
    slots = new Int32Array(next * 2)
    // Every digest is present once: each goes to the first free slot from its own.
    const mask = slots.length - 1
    for (let i = 0; i < count; i++) {
      let slot = digests.readUInt32LE(i * 32) & mask
      while (slots[slot] !== 0) slot = (slot + 1) & mask
      slots[slot] = i + 1
    }
  }

  function place(i: number, location: Location): void {
    offsets[i] = location.offset
    lengths[i] = location.length
    sizes[i] = location.size
    codecs[i] = location.codec
    packs[i] = location.pack
    kinds[i] = location.kind === 'chunk' ? 0 : 1
  }

  function add(digest: Uint8Array, location: Location): void {
    if (count >= capacity) grow()
    const slot = findSlot(digest)
    if (slots[slot] !== 0) return
    digests.set(digest, count * 32)
    place(count, location)
    slots[slot] = ++count
  }

  return {
    get size() {
      return count
    },
    get(digest) {
      if (count === 0) return undefined
      const entry = slots[findSlot(digest)] ?? 0
      if (entry === 0) return undefined
      const i = entry - 1
      return {
        pack: packs[i] ?? 0,
        offset: offsets[i] ?? 0,
        length: lengths[i] ?? 0,
        kind: kinds[i] === 0 ? 'chunk' : 'manifest',
        codec: codecs[i] ?? RAW,
        size: sizes[i] ?? 0,
      }
    },
    add,
    set(digest, location) {
      const entry = count === 0 ? 0 : (slots[findSlot(digest)] ?? 0)
      if (entry === 0) add(digest, location)
      else place(entry - 1, location)
    },
  }
}

function copyInto<T extends Float64Array | Uint32Array | Uint8Array>(target: T, source: T): T {
  target.set(source as never)
  return target
}
