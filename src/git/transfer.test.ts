import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { pull } from './pull.ts'
import { formatStub } from './stub.ts'
import {
  isolateGit,
  storeFile,
  testSession,
  testStore,
  testWorkTree,
} from './test-helpers/work-tree.ts'
import { fetch, push } from './transfer.ts'

const root = tempDir('mlvc-transfer')
beforeAll(() => isolateGit(root))

const MALFORMED = '# mlvc stub v1: the data lives in the mlvc store\nsize: lots\n'

describe('push, fetch and pull as library calls', () => {
  it('push sends what HEAD needs; pull into an empty store fetches it and writes the file', async () => {
    const tree = await testWorkTree(join(root, 'work'), 'remotes:\n  origin:\n    url: ../remote\n')
    const data = pseudoRandomBytes(300_000, 7)
    const mine = await testStore(join(root, 'store-a'))
    const stub = await storeFile(mine, join(root, 'm.src'), data)
    writeFileSync(join(tree.workTree, 'm.bin'), formatStub(stub))
    writeFileSync(join(tree.workTree, 'bad.bin'), MALFORMED)
    await tree.git('add', 'm.bin', 'bad.bin')
    await tree.git('commit', '-qm', 'a model and a broken stub')

    const pushing = testSession(tree, mine)
    const pushed = await push(pushing, { revs: [], all: false })
    expect(pushed).toMatchObject({ remote: 'origin', files: 1, report: { present: 0 } })
    expect(pushed.report.uploadedObjects).toBeGreaterThan(0)
    expect(pushing.warnings).toEqual([
      expect.objectContaining({ kind: 'bad-stub', path: 'bad.bin', outcome: 'not pushed' }),
    ])
    await mine.close()

    // Another machine: the same commit, an empty store.
    const theirs = await testStore(join(root, 'store-b'))
    const pulling = testSession(tree, theirs)
    const pulled = await pull(pulling)
    expect(pulled).toMatchObject({ remote: 'origin', written: ['m.bin'], missing: [], failed: [] })
    expect(pulled.bad.map((b) => [b.path, b.problem.kind])).toEqual([['bad.bin', 'malformed']])
    expect(readFileSync(join(tree.workTree, 'm.bin')).equals(data)).toBe(true)
    expect(readFileSync(join(tree.workTree, 'bad.bin'), 'utf8')).toBe(MALFORMED)
    expect(pulling.warnings).toEqual([
      expect.objectContaining({ kind: 'bad-stub', path: 'bad.bin', outcome: 'left as it is' }),
    ])
    // Everything is here now: nothing more to fetch.
    const again = await fetch(pulling, { revs: [], all: false })
    expect(again.report).toMatchObject({ fetchedObjects: 0, missing: [] })
    await theirs.close()
  })

  it('fetch reports content the remote does not have; pull leaves its stub', async () => {
    const tree = await testWorkTree(join(root, 'work2'), 'remotes:\n  r:\n    url: ../remote2\n')
    const mine = await testStore(join(root, 'store-c'))
    const stub = await storeFile(mine, join(root, 'n.src'), pseudoRandomBytes(5000, 9))
    writeFileSync(join(tree.workTree, 'n.bin'), formatStub(stub))
    await tree.git('add', 'n.bin')
    await tree.git('commit', '-qm', 'never pushed')
    await mine.close()
    const empty = await testStore(join(root, 'store-d'))
    const session = testSession(tree, empty)
    const fetched = await fetch(session, { revs: ['HEAD'], all: false, remote: 'r' })
    expect(fetched).toMatchObject({ remote: 'r', report: { missing: [stub.id] } })
    const pulled = await pull(session, { remote: 'r' })
    expect(pulled).toMatchObject({ written: [], missing: ['n.bin'], failed: [] })
    expect(readFileSync(join(tree.workTree, 'n.bin'), 'utf8')).toBe(formatStub(stub))
    await empty.close()
  })
})
