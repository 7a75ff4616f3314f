import { expect, test } from 'vitest'
import { statsToJSON, type TensorStats } from '../tensors/index.ts'
import { createPackedStats, setPackedStats, unpackStats } from './stats-pack.ts'

test('statistics packed by a worker unpack to what statsToJSON gives, key order included', () => {
  const all: Array<TensorStats | null> = [
    {
      count: 10,
      mean: 0.25,
      std: 1.5,
      min: -3,
      max: 7.125,
      l2: 9.75,
      nan: 1,
      posInf: 2,
      negInf: 0,
      zeros: 3,
    },
    null,
    {
      count: 0,
      mean: Number.NaN,
      std: Number.NaN,
      min: Number.NaN,
      max: Number.NaN,
      l2: 0,
      nan: 0,
      posInf: 0,
      negInf: 0,
      zeros: 0,
    },
    {
      count: 2 ** 40,
      mean: -0,
      std: 1e-300,
      min: -1e308,
      max: 1e308,
      l2: Number.POSITIVE_INFINITY,
      nan: 2 ** 35,
      posInf: 0,
      negInf: 5,
      zeros: 2 ** 31,
    },
  ]
  const packed = createPackedStats(all.length)
  all.forEach((s, i) => {
    if (s) setPackedStats(packed, i, s)
  })
  const back = unpackStats(packed)
  expect(back.map((s) => JSON.stringify(s))).toEqual(
    all.map((s) => JSON.stringify(s ? statsToJSON(s) : null)),
  )
})
