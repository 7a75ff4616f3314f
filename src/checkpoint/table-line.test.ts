import { expect, test } from 'vitest'
import { readLayout } from '../formats/index.ts'
import { checkpointFixtures, fixture } from '../formats/test-helpers/fixtures.ts'
import type { TensorRecord } from './meta.ts'
import { decodeTableLine, decodeTableLines, encodeTableLine } from './table-line.ts'

test('every fixture tensor (all formats and encodings) reads back from its table line', async () => {
  let extras = 0
  for (const [rel] of checkpointFixtures()) {
    const layout = await readLayout(fixture(rel))
    for (const [i, tensor] of layout.tensors.entries()) {
      const record: TensorRecord = {
        ...tensor,
        content: i % 3 === 0 ? null : `bagaaiera${i}`,
        stats:
          i % 4 === 0
            ? null
            : {
                count: i,
                mean: i % 5 === 0 ? null : i / 7,
                std: 0.5,
                min: -1e-300,
                max: 1e300,
                l2: null,
                nan: 1,
                posInf: 0,
                negInf: 2,
                zeros: 3,
              },
      }
      const line = encodeTableLine(record)
      if (line.endsWith('}]')) extras++
      expect(decodeTableLine(line), `${rel}: ${tensor.name}`).toEqual(record)
    }
  }
  // Strided torch views, compressed npz members, GGUF blocks, ONNX varints and external data.
  expect(extras).toBeGreaterThan(5)
})

test('malformed lines are refused', () => {
  const good = encodeTableLine({
    name: 'w',
    dtype: 'F32',
    shape: [2],
    start: 8,
    end: 16,
    encoding: { kind: 'dense', byteOrder: 'little', order: 'C' },
    nbytes: 8,
    content: null,
    stats: null,
  })
  expect(decodeTableLine(good)).toMatchObject({ name: 'w', shape: [2] })
  for (const bad of [
    '',
    '{}',
    '["w","F32",[2],8,16,8,null]',
    '["w","F32",[-2],8,16,8,null,null]',
    '["w","F32",[2],8,16,8,5,null]',
    '["w","F32",[2],8,16,8,null,[1,2]]',
    '["w","F32",[2],8,16,8,null,null,[]]',
    good.slice(0, -1),
  ])
    expect(decodeTableLine(bad), bad).toBeUndefined()
})

test('many lines decode at once like one by one; a line that is two values or none is refused', () => {
  const line = (name: string) => `["${name}","F32",[2],8,16,8,null,null]`
  const lines = ['a', 'b', 'c'].map(line)
  expect(decodeTableLines(lines)).toEqual(lines.map(decodeTableLine))
  // Joined into one array, these would parse: each must still be exactly one record.
  for (const bad of [`${line('a')},${line('b')}`, '', `${line('a')}]`, `1],[${line('b')}`])
    expect(decodeTableLines([line('x'), bad]), bad).toBeUndefined()
})

test('statistics whose counts are not counts are refused (a null count read as a number before)', () => {
  const line = (stats: unknown[]) => `["w","F32",[2],8,16,8,null,${JSON.stringify(stats)}]`
  const stats: Array<number | null> = [2, 0.5, 0.1, 0, 1, 1.2, 0, 0, 0, 1]
  expect(decodeTableLine(line(stats))?.stats).toMatchObject({ count: 2, zeros: 1 })
  expect(decodeTableLine(line([2, null, null, null, null, null, 0, 0, 0, 0]))?.stats).toMatchObject(
    {
      mean: null,
    },
  )
  for (const at of [0, 6, 7, 8, 9]) {
    const bad = [...stats]
    bad[at] = null
    expect(decodeTableLine(line(bad)), `null at ${at}`).toBeUndefined()
    bad[at] = 1.5
    expect(decodeTableLine(line(bad)), `1.5 at ${at}`).toBeUndefined()
  }
})
