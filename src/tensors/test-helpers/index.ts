/** Helpers for the tensor tests only (excluded from the build). */
import { readFileSync } from 'node:fs'

export function fixture(name: string): Uint8Array {
  const data = readFileSync(new URL(`../fixtures/${name}`, import.meta.url))
  return new Uint8Array(data.buffer, data.byteOffset, data.length)
}

export function fixtureJSON<T>(name: string): T {
  return JSON.parse(Buffer.from(fixture(name)).toString('utf8')) as T
}

/** Cuts `data` at the given positions (any order, any value) into a stream of pieces. */
export async function* pieces(
  data: Uint8Array,
  cuts: readonly number[] = [],
): AsyncGenerator<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const point of [...points, data.length]) {
    if (point > from) yield data.subarray(from, point)
    from = Math.max(from, point)
  }
}

export async function concat(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  )
}

/** `length` deterministic pseudo-random values, normal-ish around 0 with the given scale. */
export function randomValues(length: number, seed: number, scale = 1): Float64Array {
  const out = new Float64Array(length)
  let x = seed | 1
  for (let i = 0; i < length; i++) {
    let sum = 0
    for (let k = 0; k < 4; k++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      sum += (x >>> 0) / 2 ** 32
    }
    out[i] = (sum - 2) * scale
  }
  return out
}
