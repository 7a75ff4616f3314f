import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import type { TensorLayout } from '../formats/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { statsInWorker } from './stats-pool.ts'

test('a worker let go after a very large request: the next requests get a new one', async () => {
  const path = join(tempDir('mlvc-stats-pool'), 'data.bin')
  writeFileSync(path, Buffer.from(new Float32Array([1, -2, 3, 0]).buffer))
  const tensor = (i: number, nbytes: number): TensorLayout => ({
    name: `t${i}`,
    dtype: 'F32',
    shape: [nbytes / 4],
    start: 0,
    end: nbytes,
    encoding: { kind: 'dense', byteOrder: 'little', order: 'C' },
    nbytes,
  })
  const many = Array.from({ length: 60_000 }, (_, i) => tensor(i, i % 2 === 0 ? 0 : 16))
  for (let round = 0; round < 3; round++) {
    const [big, small] = await Promise.all([
      statsInWorker(path, many),
      statsInWorker(path, [tensor(0, 16)]),
    ])
    expect(big).toHaveLength(60_000)
    expect(big[0]).toMatchObject({ count: 0, mean: null })
    expect(big[1]).toMatchObject({ count: 4, min: -2, max: 3, zeros: 1 })
    expect(small[0]).toEqual(big[1])
  }
})
