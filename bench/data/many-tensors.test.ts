import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { elementsOf, manyTensorsFile, tensorName } from './many-tensors.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-many-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('writes a safetensors file of many tiny tensors, each where its header says', async () => {
  const path = await manyTensorsFile(dir, 5000)
  const bytes = readFileSync(path)
  const length = Number(bytes.readBigUInt64LE(0))
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + length))
  const names = Object.keys(header).filter((k) => k !== '__metadata__')
  expect(names).toHaveLength(5000)
  let offset = 0
  for (let i = 0; i < 5000; i++) {
    const entry = header[tensorName(i)]
    const n = elementsOf(i)
    expect(entry).toEqual({ dtype: 'F32', shape: [n], data_offsets: [offset, offset + n * 4] })
    if (n > 0) {
      const value = bytes.readFloatLE(8 + length + offset)
      expect(value).toBe(Math.fround(Math.sin(i * 12.9898)))
    }
    offset += n * 4
  }
  expect(bytes.length).toBe(8 + length + offset)
  expect(elementsOf(0)).toBe(0)
  // Cached: asking again gives the same file without writing it.
  expect(await manyTensorsFile(dir, 5000)).toBe(path)
})
