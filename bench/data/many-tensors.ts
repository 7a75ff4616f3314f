import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { cachedFile } from './cache.ts'

/** Elements of tensor i: 0 (every 100th tensor is empty, as buffers and placeholders are) to 3. */
export function elementsOf(i: number): number {
  return i % 100 === 0 ? 0 : 1 + (i % 3)
}

/** Tensor names: `layers.I.weight`, in file order. */
export const tensorName = (i: number) => `layers.${i}.weight`

function header(count: number): Buffer {
  const parts = ['{"__metadata__":{"format":"pt","generator":"mlvc bench"}']
  let offset = 0
  for (let i = 0; i < count; i++) {
    const n = elementsOf(i)
    parts.push(
      `,"${tensorName(i)}":{"dtype":"F32","shape":[${n}],"data_offsets":[${offset},${offset + n * 4}]}`,
    )
    offset += n * 4
  }
  let json = `${parts.join('')}}`
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8)
  const out = Buffer.alloc(8 + json.length)
  out.writeBigUInt64LE(BigInt(json.length), 0)
  out.write(json, 8, 'latin1')
  return out
}

/**
 * A safetensors checkpoint of `count` tiny F32 tensors (issue 10: 200,000 of them made `git add`
 * take 71 s): its header is most of the file. Written once into the data folder.
 */
export function manyTensorsFile(dataDir: string, count: number): Promise<string> {
  const path = join(dataDir, `ckpt-tensors-${count}.safetensors`)
  return cachedFile(path, async (tmp) => {
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, header(count))
      const data = Buffer.alloc(12 * 4096)
      let used = 0
      for (let i = 0; i < count; i++) {
        for (let k = 0; k < elementsOf(i); k++) {
          data.writeFloatLE(Math.sin(i * 12.9898 + k * 78.233), used)
          used += 4
        }
        if (used > data.length - 12) {
          writeSync(fd, data, 0, used)
          used = 0
        }
      }
      writeSync(fd, data, 0, used)
    } finally {
      closeSync(fd)
    }
  })
}
