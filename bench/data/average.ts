import { closeSync, openSync, readSync } from 'node:fs'

/** One tensor of a safetensors file, with absolute byte offsets into the file. */
export interface StoredTensor {
  name: string
  dtype: string
  shape: number[]
  begin: number
  end: number
}

interface HeaderEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

const MAX_HEADER = 100 << 20

function readExactly(fd: number, buffer: Buffer, position: number, path: string): void {
  for (let done = 0; done < buffer.length; ) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done)
    if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`)
    done += n
  }
}

/** Parses a safetensors header: the tensors in file order, offsets made absolute. */
export function parseHeader(json: string, dataStart: number): StoredTensor[] {
  const parsed = JSON.parse(json) as Record<string, HeaderEntry>
  return Object.entries(parsed)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, e]) => ({
      name,
      dtype: e.dtype,
      shape: e.shape,
      begin: dataStart + e.data_offsets[0],
      end: dataStart + e.data_offsets[1],
    }))
    .sort((a, b) => a.begin - b.begin)
}

export function readTensors(path: string): StoredTensor[] {
  const fd = openSync(path, 'r')
  try {
    const prefix = Buffer.alloc(8)
    readExactly(fd, prefix, 0, path)
    const length = Number(prefix.readBigUInt64LE(0))
    if (length > MAX_HEADER) throw new Error(`${path}: header of ${length} bytes`)
    const json = Buffer.alloc(length)
    readExactly(fd, json, 8, path)
    return parseHeader(json.toString('utf8'), 8 + length)
  } finally {
    closeSync(fd)
  }
}

export interface AverageCheck {
  elements: number
  /** Elements that are not the correctly rounded float32 average. */
  inexact: number
  /** The largest distance from it, in units in the last place. */
  maxUlp: number
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** An F32 value's bits mapped onto a line where neighbouring floats are neighbouring integers. */
function ordered(value: number): number {
  f32[0] = value
  const bits = u32[0] as number
  return bits & 0x80000000 ? -(bits & 0x7fffffff) : bits
}

/** How many float32 values lie between a and b (0 when equal). */
export function ulpDistance(a: number, b: number): number {
  return Math.abs(ordered(a) - ordered(b))
}

/**
 * Adds to `into` how far `merged` is from the average of `ours` and `theirs`: (a + b) / 2 is exact
 * in float64 for float32 inputs, so Math.fround gives the correctly rounded float32 result.
 */
export function compareAverage(
  ours: Float32Array,
  theirs: Float32Array,
  merged: Float32Array,
  into: AverageCheck,
): void {
  for (let i = 0; i < merged.length; i++) {
    const expected = Math.fround(((ours[i] as number) + (theirs[i] as number)) / 2)
    const got = merged[i] as number
    into.elements++
    if (got === expected) continue
    into.inexact++
    into.maxUlp = Math.max(into.maxUlp, Number.isNaN(got) ? Infinity : ulpDistance(got, expected))
  }
}

function sameLayout(a: StoredTensor, b: StoredTensor): boolean {
  return (
    a.name === b.name &&
    a.dtype === b.dtype &&
    a.shape.join(',') === b.shape.join(',') &&
    a.end - a.begin === b.end - b.begin
  )
}

const BLOCK = 8 << 20

/**
 * Checks that `merged` is the element-wise float32 average of `ours` and `theirs` (F32 tensors,
 * same names and shapes; the header may be laid out differently): streams the three files in
 * blocks. Throws on a different layout; returns the distance for the caller to judge.
 */
export function checkAveraged(merged: string, ours: string, theirs: string): AverageCheck {
  const paths = [merged, ours, theirs]
  const [m, a, b] = paths.map(readTensors) as [StoredTensor[], StoredTensor[], StoredTensor[]]
  const byName = (list: StoredTensor[]) => new Map(list.map((t) => [t.name, t]))
  const [mm, bb] = [byName(m), byName(b)]
  const check: AverageCheck = { elements: 0, inexact: 0, maxUlp: 0 }
  const fds = paths.map((p) => openSync(p, 'r'))
  const buffers = fds.map(() => new Float32Array(BLOCK / 4))
  try {
    if (m.length !== a.length)
      throw new Error(`${merged}: ${m.length} tensors, expected ${a.length}`)
    for (const t of a) {
      const parts = [mm.get(t.name), t, bb.get(t.name)]
      if (!parts.every((p) => p && sameLayout(p, t) && p.dtype === 'F32')) {
        throw new Error(`${merged}: tensor ${t.name} does not have the layout of the inputs`)
      }
      for (let done = 0; done < t.end - t.begin; ) {
        const n = Math.min(BLOCK, t.end - t.begin - done)
        const views = buffers.map((f, i) => {
          const bytes = Buffer.from(f.buffer, 0, n)
          const at = (parts[i] as StoredTensor).begin + done
          readExactly(fds[i] as number, bytes, at, paths[i] as string)
          return f.subarray(0, n / 4)
        }) as [Float32Array, Float32Array, Float32Array]
        compareAverage(views[1], views[2], views[0], check)
        done += n
      }
    }
  } finally {
    for (const fd of fds) closeSync(fd)
  }
  return check
}
