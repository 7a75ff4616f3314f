import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { readLayout } from '../formats/index.ts'
import { buildTorchZip, torchStatePickle } from '../formats/test-helpers/builders.ts'
import { materialize, openStore, type Store } from '../store/index.ts'
import { type MergeStrategy, mergeArrays } from '../tensors/index.ts'
import { damageFile, onlyPack, tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'
import { mergeCheckpoints } from './merge.ts'
import { parseStrategy, strategyOf } from './strategy.ts'
import { averageF32, f32Model, randomF32, tensorBytes } from './test-helpers/index.ts'

const dir = tempDir('mlvc-merge')
let n = 0

async function put(store: Store, bytes: Buffer, ext = 'safetensors'): Promise<string> {
  const path = join(dir, `in-${n++}.${ext}`)
  writeFileSync(path, bytes)
  const result = await ingestCheckpoint(store, path, undefined)
  expect(result.meta).toBeDefined()
  return result.id
}

/** A fresh store holding three versions of a one-tensor model `w` (elements per version). */
async function threeVersions(elements: [number, number, number]) {
  const store = await openStore(join(dir, `store-${n++}`), { create: true })
  const id = (i: number) => put(store, f32Model({ w: randomF32(elements[i] as number, i + 1) }, {}))
  return { store, ids: { base: await id(0), ours: await id(1), theirs: await id(2) } }
}

async function out(store: Store, id: string, ext = 'safetensors'): Promise<string> {
  const path = join(dir, `out-${n++}.${ext}`)
  await materialize(store, id, path, { deltas: tensorDeltas() })
  return path
}

describe('three-way checkpoint merges', () => {
  const base = { x: randomF32(50_000, 1), y: randomF32(20_000, 2), z: randomF32(30_000, 3) }
  const oursX = randomF32(50_000, 4)
  const theirsX = randomF32(50_000, 5)
  const theirsY = randomF32(20_000, 6)
  const oursZ = randomF32(30_000, 7)

  async function setup(): Promise<{
    store: Store
    ids: { base: string; ours: string; theirs: string }
  }> {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const ids = {
      base: await put(store, f32Model(base, { v: 'base' })),
      ours: await put(store, f32Model({ ...base, x: oursX, z: oursZ }, { v: 'ours' })),
      theirs: await put(store, f32Model({ ...base, x: theirsX, y: theirsY }, { v: 'theirs' })),
    }
    await store.commit()
    return { store, ids }
  }

  test('one-sided changes merge without a strategy; both-sided ones conflict by default', async () => {
    const { store, ids } = await setup()
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm.safetensors',
      choose: () => parseStrategy('fail', 'default'),
    })
    expect(outcome.conflicts).toEqual([
      { tensor: 'x', reason: 'changed-on-both-sides', message: 'changed on both sides' },
    ])
    expect(outcome.result).toBeUndefined()
    await store.close()
  })

  test('average: values equal an independent computation; one-sided changes kept; metadata from ours', async () => {
    const { store, ids } = await setup()
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm.safetensors',
      choose: () => parseStrategy('average', 'test'),
    })
    expect(outcome.conflicts).toEqual([])
    await store.commit()
    const file = await out(store, outcome.result?.id as string)
    expect((await tensorBytes(file, 'x')).equals(averageF32(oursX, theirsX))).toBe(true)
    expect((await tensorBytes(file, 'y')).equals(theirsY)).toBe(true)
    expect((await tensorBytes(file, 'z')).equals(oursZ)).toBe(true)
    expect((await readLayout(file)).metadata).toEqual({ v: 'ours' })
    // Statistics: computed for the merged tensor, carried over from the side for the others.
    const counts = outcome.result?.meta.tensors.map((t) => [t.name, t.stats?.count])
    expect(counts).toEqual([
      ['x', 50_000],
      ['y', 20_000],
      ['z', 30_000],
    ])
    await store.close()
  })

  test('weighted average and task arithmetic', async () => {
    const { store, ids } = await setup()
    const weighted = await mergeCheckpoints(store, {
      ...ids,
      path: 'm',
      choose: () => parseStrategy('average:weights=3/1', 't'),
    })
    const file = await out(store, weighted.result?.id as string)
    const got = await tensorBytes(file, 'x')
    for (let i = 0; i < 100; i++) {
      const expected = Math.fround(
        0.75 * oursX.readFloatLE(i * 4) + 0.25 * theirsX.readFloatLE(i * 4),
      )
      expect(got.readFloatLE(i * 4)).toBe(expected)
    }
    const task = await mergeCheckpoints(store, {
      ...ids,
      path: 'm',
      choose: () => parseStrategy('task-arithmetic:lambda=0.5', 't'),
    })
    const tfile = await out(store, task.result?.id as string)
    const tx = await tensorBytes(tfile, 'x')
    for (let i = 0; i < 100; i++) {
      const b = base.x.readFloatLE(i * 4)
      const expected = Math.fround(
        b + 0.5 * (oursX.readFloatLE(i * 4) - b) + 0.5 * (theirsX.readFloatLE(i * 4) - b),
      )
      expect(tx.readFloatLE(i * 4)).toBe(expected)
    }
    await store.close()
  })

  test('a shape change against a value change is a conflict, whatever the strategy', async () => {
    const { store, ids } = await threeVersions([100, 200, 100])
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm',
      choose: () => parseStrategy('average', 't'),
    })
    expect(outcome.conflicts[0]?.reason).toBe('shape-or-dtype-changed')
    expect(outcome.conflicts[0]?.message).toMatch(/^shape or dtype changed/)
    await store.close()
  })

  test('a PyTorch zip (CRCs to fix) merges through a rewrite and loads back', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const torch = (a: Buffer, b: Buffer) =>
      buildTorchZip(
        torchStatePickle([
          { name: 'a', key: '0', numel: a.length / 4, shape: [a.length / 4], strides: [1] },
          { name: 'b', key: '1', numel: b.length / 4, shape: [b.length / 4], strides: [1] },
        ]),
        { '0': a, '1': b },
      )
    const a0 = randomF32(1000, 1)
    const b0 = randomF32(500, 2)
    const a1 = randomF32(1000, 3)
    const a2 = randomF32(1000, 4)
    const ids = {
      base: await put(store, torch(a0, b0), 'pt'),
      ours: await put(store, torch(a1, b0), 'pt'),
      theirs: await put(store, torch(a2, b0), 'pt'),
    }
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm.pt',
      choose: () => parseStrategy('average', 't'),
    })
    expect(outcome.conflicts).toEqual([])
    const file = await out(store, outcome.result?.id as string, 'pt')
    expect((await tensorBytes(file, 'a')).equals(averageF32(a1, a2))).toBe(true)
    expect((await tensorBytes(file, 'b')).equals(b0)).toBe(true)
    expect(readFileSync(file).subarray(0, 2).toString('latin1')).toBe('PK')
    await store.close()
  })
})

describe('merging in blocks', () => {
  test('adjacent tensors in many small blocks (reused buffers), TIES passes included, equal merging whole arrays', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const sizes = { a: 50_001, b: 30_003, c: 20_005 }
    const version = (seed: number) =>
      Object.fromEntries(
        Object.entries(sizes).map(([name, count], i) => [name, randomF32(count, seed * 10 + i)]),
      )
    const [v0, v1, v2] = [version(1), version(2), version(3)]
    const ids = {
      base: await put(store, f32Model(v0, {})),
      ours: await put(store, f32Model(v1, {})),
      theirs: await put(store, f32Model(v2, {})),
    }
    for (const text of ['average:weights=2/1', 'task-arithmetic:lambda=0.7', 'ties:density=0.3']) {
      const spec = parseStrategy(text, 't')
      // 12 KiB blocks: every tensor ends inside a block, so the two output buffers take turns
      // across tensor boundaries while the previous block is still being written.
      const outcome = await mergeCheckpoints(store, {
        ...ids,
        path: 'm',
        choose: () => spec,
        blockBytes: 12 * 1024 + 4,
      })
      expect(outcome.conflicts).toEqual([])
      const file = await out(store, outcome.result?.id as string)
      for (const name of Object.keys(sizes)) {
        const whole = mergeArrays(strategyOf(spec) as MergeStrategy, 'F32', {
          base: v0[name] as Buffer,
          ours: v1[name] as Buffer,
          theirs: v2[name] as Buffer,
        })
        expect((await tensorBytes(file, name)).equals(whole), `${text}: ${name}`).toBe(true)
      }
    }
    await store.close()
  })

  test('a merged file is left ready: the checkout that follows moves it instead of rebuilding it', async () => {
    const { store, ids } = await threeVersions([1000, 1000, 1000])
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm',
      choose: () => parseStrategy('average', 't'),
    })
    const id = outcome.result?.id as string
    await store.commit()
    expect(readdirSync(store.layout.tmp)).toEqual([`ready-${id}`])
    const ready = readFileSync(join(store.layout.tmp, `ready-${id}`))
    const file = await out(store, id)
    expect(readdirSync(store.layout.tmp)).toEqual([])
    expect(readFileSync(file).equals(ready)).toBe(true)
    // The next checkout of the same id rebuilds it from the packs, identical.
    expect(readFileSync(await out(store, id)).equals(ready)).toBe(true)
    await store.close()
  })
})

describe('merges that must stop', () => {
  test('versions in different formats are a conflict for the whole file', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const torchFile = buildTorchZip(
      torchStatePickle([{ name: 'w', key: '0', numel: 100, shape: [100], strides: [1] }]),
      { '0': randomF32(100, 9) },
    )
    const ids = {
      base: await put(store, f32Model({ w: randomF32(100, 1) }, {})),
      ours: await put(store, f32Model({ w: randomF32(100, 2) }, {})),
      theirs: await put(store, torchFile, 'pt'),
    }
    const outcome = await mergeCheckpoints(store, {
      ...ids,
      path: 'm',
      choose: () => parseStrategy('average', 't'),
    })
    expect(outcome.conflicts).toEqual([
      {
        tensor: undefined,
        reason: 'different-formats',
        message:
          'the versions are in different formats (base safetensors, ours safetensors, theirs pytorch)',
      },
    ])
    await store.close()
  })

  test('a corrupt side is an error naming the object, and nothing is stored for the merge', async () => {
    const root = join(dir, `store-${n++}`)
    const store = await openStore(root, { create: true })
    const ids = {
      base: await put(store, f32Model({ w: randomF32(300_000, 1) }, {})),
      ours: await put(store, f32Model({ w: randomF32(300_000, 2) }, {})),
    }
    const theirs = await put(store, f32Model({ w: randomF32(300_000, 3) }, {}))
    await store.close()
    // Theirs' tensor was appended last (before its small manifests): damage it there.
    damageFile(onlyPack(root), -300_000, 0xff)
    const reopened = await openStore(root)
    await expect(
      mergeCheckpoints(reopened, {
        ...ids,
        theirs,
        path: 'm',
        choose: () => parseStrategy('average', 't'),
      }),
    ).rejects.toThrow(/chunk bafkrei\w+ at offset \d+ of pack pack-[\w-]+ is damaged/)
    expect(readdirSync(reopened.layout.tmp)).toEqual([])
    await reopened.close()
  })
})
