import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { ingestSource, iterableSource, openStore } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import type { TensorRecord } from './meta.ts'
import { readTable, storeTable } from './table.ts'

const dir = tempDir('mlvc-table')

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes
}

const record = (i: number): TensorRecord => ({
  name: `layers.${i}.weight`,
  dtype: 'F32',
  shape: [i],
  start: 8 * i,
  end: 12 * i,
  encoding: { kind: 'dense', byteOrder: 'little', order: 'C' },
  nbytes: 4 * i,
  content: null,
  stats: null,
})

async function storeText(name: string, text: string): Promise<{ store: string; id: string }> {
  const path = join(dir, name)
  const store = await openStore(path, { create: true })
  const id = (await ingestSource(store, iterableSource(once(Buffer.from(text))), { path: name })).id
  await store.commit()
  await store.close()
  return { store: path, id }
}

async function readError(where: { store: string; id: string }, count: number): Promise<unknown> {
  const store = await openStore(where.store)
  try {
    await readTable(store, where.id, count)
  } catch (err) {
    return err
  } finally {
    await store.close()
  }
  return undefined
}

describe('tensor tables in the store', () => {
  test('120,000 records (two 4 MiB blocks) read back in order', async () => {
    const records = Array.from({ length: 120_000 }, (_, i) => record(i))
    const store = await openStore(join(dir, 'big'), { create: true })
    const id = await storeTable(store, records, 'model.safetensors')
    await store.commit()
    expect(await readTable(store, id, records.length)).toEqual(records)
    await store.close()
  })

  test.each([
    ['a malformed line', '["a","F32",[1],0,4,4,null,null]\n{"not":"a record"}\n', 2],
    [
      'two records on one line',
      '["a","F32",[1],0,4,4,null,null],["b","F32",[1],4,8,4,null,null]\n',
      1,
    ],
    ['an empty line', '["a","F32",[1],0,4,4,null,null]\n\n', 1],
    ['a cut-off last line', '["a","F32",[1],0,4,4,null,null]\n["b","F32"', 2],
    ['fewer records than the file has', '["a","F32",[1],0,4,4,null,null]\n', 2],
  ])('%s is CORRUPT, naming the table', async (name, text, count) => {
    const where = await storeText(name.replace(/\W+/g, '-'), text)
    const err = await readError(where, count)
    expect(isMlvcError(err, 'CORRUPT'), String(err)).toBe(true)
    expect(String((err as Error).message)).toContain(where.id)
  })
})
