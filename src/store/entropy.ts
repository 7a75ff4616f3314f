/** Samples of up to this many bytes are taken whole; longer data is sampled in RUNS runs. */
const SAMPLE = 4096
const RUNS = 16

const counts = new Uint32Array(256)

/**
 * Order-0 entropy, in bits per byte, of the bytes data[start + i·stride] for i < count, estimated
 * from a sample: all of them up to 4096, else 16 runs of 256 consecutive ones spread evenly. It
 * decides cheaply (a few microseconds per chunk) whether a Huffman code could shrink the bytes, so
 * that random data costs almost nothing to reject. A finite sample reads low: about 7.95 bits for
 * random bytes.
 */
export function sampledEntropy(
  data: Uint8Array,
  start: number,
  stride: number,
  count: number,
): number {
  counts.fill(0)
  let taken = 0
  if (count <= SAMPLE) {
    for (let i = 0, at = start; i < count; i++, at += stride) {
      const b = data[at] ?? 0
      counts[b] = (counts[b] ?? 0) + 1
    }
    taken = count
  } else {
    const run = SAMPLE / RUNS
    const gap = Math.floor((count - run) / (RUNS - 1))
    for (let r = 0; r < RUNS; r++) {
      let at = start + r * gap * stride
      for (let i = 0; i < run; i++, at += stride) {
        const b = data[at] ?? 0
        counts[b] = (counts[b] ?? 0) + 1
      }
    }
    taken = SAMPLE
  }
  if (taken === 0) return 0
  let sum = 0
  for (let b = 0; b < 256; b++) {
    const c = counts[b] ?? 0
    if (c > 0) sum += c * Math.log2(c)
  }
  return Math.log2(taken) - sum / taken
}
