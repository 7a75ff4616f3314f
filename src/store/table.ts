import type { ObjectKind } from './cid.ts'

/** Where an object's bytes are: pack number (in the store's pack list), offset and length. */
export interface Location {
  pack: number
  offset: number
  length: number
  kind: ObjectKind
}

/**
 * An in-memory map from 32-byte digests to locations: open addressing with linear probing over
 * flat typed arrays, about 70 bytes per object, so a store of a million chunks (64 GiB) costs 70 MB.
 */
export interface ObjectTable {
  readonly size: number
  get(digest: Uint8Array): Location | undefined
  /** Adds the object unless it is present already (the first location wins). */
  add(digest: Uint8Array, location: Location): void
  /** Adds the object, or moves it to this location (a good copy replacing a damaged one). */
  set(digest: Uint8Array, location: Location): void
}

const KINDS: readonly ObjectKind[] = ['chunk', 'manifest']

export function createObjectTable(): ObjectTable {
  let capacity = 0
  let count = 0
  let digests = Buffer.alloc(0)
  let offsets = new Float64Array(0)
  let lengths = new Uint32Array(0)
  let packs = new Uint32Array(0)
  let kinds = new Uint8Array(0)
  let slots = new Int32Array(0)

  function findSlot(digest: Uint8Array): number {
    const mask = slots.length - 1
    const view = Buffer.from(digest.buffer, digest.byteOffset, 32)
    let slot = view.readUInt32LE(0) & mask
    for (;;) {
      const entry = slots[slot] as number
      if (entry === 0) return slot
      const at = (entry - 1) * 32
      if (digests.compare(view, 0, 32, at, at + 32) === 0) return slot
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
    packs = copyInto(new Uint32Array(next), packs)
    kinds = copyInto(new Uint8Array(next), kinds)
    capacity = next
    slots = new Int32Array(next * 2)
    for (let i = 0; i < count; i++) slots[findSlot(digests.subarray(i * 32, i * 32 + 32))] = i + 1
  }

  function place(i: number, location: Location): void {
    offsets[i] = location.offset
    lengths[i] = location.length
    packs[i] = location.pack
    kinds[i] = KINDS.indexOf(location.kind)
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
      const entry = slots[findSlot(digest)] as number
      if (entry === 0) return undefined
      const i = entry - 1
      return {
        pack: packs[i] as number,
        offset: offsets[i] as number,
        length: lengths[i] as number,
        kind: KINDS[kinds[i] as number] as ObjectKind,
      }
    },
    add,
    set(digest, location) {
      const entry = count === 0 ? 0 : (slots[findSlot(digest)] as number)
      if (entry === 0) add(digest, location)
      else place(entry - 1, location)
    },
  }
}

function copyInto<T extends Float64Array | Uint32Array | Uint8Array>(target: T, source: T): T {
  target.set(source as never)
  return target
}
