import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseStrategy } from '../checkpoint/index.ts'
import { f32Model, randomF32 } from '../checkpoint/test-helpers/index.ts'
import { layeredConfig } from '../core/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { runMergeDriver } from './merge-driver.ts'
import { conflictLines } from './merge-messages.ts'
import { strategyChooser } from './merge-strategy.ts'
import { mergeStubs, readSides } from './merge-stubs.ts'
import { formatStub } from './stub.ts'
import {
  isolateGit,
  storeFile,
  testSession,
  testStore,
  testWorkTree,
} from './test-helpers/work-tree.ts'

const root = tempDir('mlvc-merge-stubs')
beforeAll(() => isolateGit(root))
let n = 0

/** Three versions of a model whose tensor `w` changed on both sides and `b` on ours only. */
async function threeVersions(config = '') {
  const dir = join(root, `case-${n++}`)
  const tree = await testWorkTree(dir, config)
  const store = await testStore(join(dir, '.git', 'mlvc'))
  const put = (tensors: Record<string, Buffer>) =>
    storeFile(store, join(dir, `src-${n++}`), f32Model(tensors))
  const b0 = randomF32(8, 1)
  const stubs = {
    base: await put({ w: randomF32(8, 2), b: b0 }),
    ours: await put({ w: randomF32(8, 3), b: randomF32(8, 4) }),
    theirs: await put({ w: randomF32(8, 5), b: b0 }),
  }
  return { tree, store, stubs, session: testSession(tree, store) }
}

describe('strategyChooser', () => {
  it('takes config tensor patterns, then this merge, then the attribute, then config', async () => {
    const { tree } = await threeVersions()
    writeFileSync(join(tree.workTree, '.gitattributes'), '*.bin merge=mlvc mlvc-merge=ties\n')
    const merge = { tensors: { '*.bias': 'ours' }, strategy: 'base' }
    const config = layeredConfig([{ file: 'config.yaml', tree: { merge } }])
    const rules = { workTree: tree.workTree, config, path: 'm.bin' }
    const named = async (override?: { text: string; source: string }) => {
      const choose = await strategyChooser({ ...rules, override })
      return [choose('l.bias').name, choose('l.weight').name]
    }
    expect(await named({ text: 'average', source: '--strategy' })).toEqual(['ours', 'average'])
    expect(await named()).toEqual(['ours', 'ties'])
    writeFileSync(join(tree.workTree, '.gitattributes'), '*.bin merge=mlvc\n')
    expect(await named()).toEqual(['ours', 'base'])
    const bare = await strategyChooser({
      workTree: tree.workTree,
      config: layeredConfig([]),
      path: 'm.bin',
    })
    expect(bare('x').name).toBe('fail')
    await expect(named({ text: 'blend', source: 'MLVC_MERGE_STRATEGY' })).rejects.toThrow(
      /^MLVC_MERGE_STRATEGY: unknown merge strategy "blend"/,
    )
  })
})

describe('mergeStubs', () => {
  it('conflicts by default, with a reason code per tensor', async () => {
    const { store, stubs, session } = await threeVersions()
    const report = await mergeStubs(session, { stubs, path: 'm.bin' })
    expect(report).toEqual({
      kind: 'conflict',
      conflicts: [
        { tensor: 'w', reason: 'changed-on-both-sides', message: 'changed on both sides' },
      ],
      together: undefined,
    })
    expect(conflictLines(report.kind === 'conflict' ? report.conflicts : [])).toEqual([
      '  w: changed on both sides',
    ])
    await store.close()
  })

  it('asks the prompt for the tensors changed on both sides, and merges with its answers', async () => {
    const { store, stubs, session } = await threeVersions()
    const asked: string[] = []
    const report = await mergeStubs(session, {
      stubs,
      path: 'm.bin',
      prompt: (path, conflicts) => {
        asked.push(path, ...conflicts.map((c) => c.tensor ?? ''))
        return new Map([['w', parseStrategy('theirs', 'test')]])
      },
    })
    expect(asked).toEqual(['m.bin', 'w'])
    expect(report.kind).toBe('merged')
    if (report.kind !== 'merged') return
    expect(report.text).toBe(formatStub(report.stub))
    const taken = report.outcome.decisions.map((d) =>
      d.action === 'take' ? [d.name, d.side, d.reason] : [d.name, d.action],
    )
    expect(taken).toEqual([
      ['w', 'theirs', 'chosen'],
      ['b', 'ours', 'changed'],
    ])
    await store.close()
  })

  it("merges with this merge's strategy, and the config's tensor patterns come first", async () => {
    const { store, stubs, session } = await threeVersions('merge:\n  tensors:\n    "w": ours\n')
    const report = await mergeStubs(session, {
      stubs,
      path: 'm.bin',
      override: { text: 'theirs', source: '--strategy' },
    })
    expect(report.kind === 'merged' && report.stub.id).toBe(stubs.ours.id)
    await store.close()
  })
})

describe('runMergeDriver', () => {
  it('writes the merged stub into %A, or leaves ours with a typed conflict', async () => {
    const { tree, store, stubs, session } = await threeVersions()
    const files = (name: string) => {
      const paths = { base: '', ours: '', theirs: '' }
      for (const side of ['base', 'ours', 'theirs'] as const) {
        paths[side] = join(tree.workTree, `${name}.${side}`)
        writeFileSync(paths[side], formatStub(stubs[side]))
      }
      return { ...paths, path: 'm.bin' }
    }
    const conflicted = files('a')
    expect(await runMergeDriver(session, conflicted)).toMatchObject({
      result: 'conflict',
      conflict: { kind: 'tensors', conflicts: [{ tensor: 'w' }] },
    })
    expect(readFileSync(conflicted.ours, 'utf8')).toBe(formatStub(stubs.ours))
    const merged = files('b')
    const override = { text: 'average', source: '--strategy' }
    expect(await runMergeDriver(session, merged, { override })).toMatchObject({ result: 'merged' })
    const stub = readSides({
      base: Buffer.alloc(0),
      ours: readFileSync(merged.ours),
      theirs: Buffer.alloc(0),
    }).ours
    expect(stub?.id).not.toBe(stubs.ours.id)
    expect(await store.has(stub?.id ?? '')).toBe(true)
    const plain = join(tree.workTree, 'plain')
    writeFileSync(`${plain}.o`, 'base\n')
    writeFileSync(`${plain}.a`, 'ours\n')
    writeFileSync(`${plain}.b`, 'theirs\n')
    const both = { base: `${plain}.o`, ours: `${plain}.a`, theirs: `${plain}.b`, path: 'x.bin' }
    expect(await runMergeDriver(session, both)).toEqual({
      result: 'conflict',
      conflict: { kind: 'both-changed' },
    })
    writeFileSync(`${plain}.b`, 'base\n')
    expect(await runMergeDriver(session, both)).toEqual({ result: 'ours' })
    await store.close()
  })
})

describe('readSides', () => {
  it('reads each side as a stub, undefined when it is not one, and names a bad side', () => {
    const stub = {
      size: 1,
      sha256: '0'.repeat(64),
      id: 'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
    }
    const sides = readSides({
      base: Buffer.from('raw bytes'),
      ours: Buffer.from(formatStub(stub)),
      theirs: Buffer.from(formatStub(stub)),
    })
    expect(sides).toEqual({ base: undefined, ours: stub, theirs: stub })
    const bad = Buffer.from('# mlvc stub v1: x\nsize: ?\n')
    expect(() => readSides({ base: bad, ours: bad, theirs: Buffer.alloc(0) })).toThrow(
      expect.objectContaining({ code: 'BAD_STUB', path: 'our side' }),
    )
  })
})
