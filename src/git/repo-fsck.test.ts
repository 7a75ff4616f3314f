import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { fsckRepository } from './repo-fsck.ts'
import { formatStub } from './stub.ts'
import { isolateGit, storeFile, testStore, testWorkTree } from './test-helpers/work-tree.ts'

const root = tempDir('mlvc-repo-fsck')
beforeAll(() => isolateGit(root))

describe('fsckRepository', () => {
  it("names each bad file with where it is, from the issue's fields", async () => {
    const tree = await testWorkTree(join(root, 'work'))
    const store = await testStore(join(root, 'store'))
    const stub = await storeFile(store, join(root, 'src'), pseudoRandomBytes(1000, 3))
    const lying = { ...stub, size: stub.size + 1 }
    writeFileSync(join(tree.workTree, 'lie.bin'), formatStub(lying))
    writeFileSync(join(tree.workTree, 'bad\tname.bin'), '# mlvc stub v9: from the future\n')
    await tree.git('add', '.')
    await tree.git('commit', '-qm', 'two bad stubs')
    writeFileSync(join(tree.workTree, 'new.bin'), '# mlvc stub v1: x\nsize: ?\n')
    await tree.git('add', 'new.bin')
    const { issues } = await fsckRepository(store, { workTree: tree.workTree })
    expect(issues.map((i) => [i.kind, i.message])).toEqual([
      [
        'bad-stub',
        '"bad\\tname.bin" (HEAD, index): written by a newer mlvc (stub v9; this mlvc reads v1)',
      ],
      ['bad-stub', 'new.bin (index): malformed mlvc stub (size "?" is not a byte count)'],
      [
        'stub-mismatch',
        `lie.bin (HEAD, index): stub says size ${stub.size + 1} but its content id names ${stub.size} bytes`,
      ],
    ])
    await store.close()
  })
})
