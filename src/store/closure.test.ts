import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { formatId } from './cid.ts'
import { closure, isComplete } from './closure.ts'
import { fsckStore } from './fsck.ts'
import { encodeManifest } from './manifest.ts'
import { openStore } from './store.ts'

// A file of 13 GiB is about 200,000 chunks of 64 KiB, and a checkpoint can have 200,000 tensors:
// lists that size once went into push(...list), one argument per entry on the stack.
const N = 200_000
const dir = tempDir('mlvc-closure')
// Writing and verifying 200,000 objects takes seconds on a busy machine: well past the default.
const SLOW = 120_000

const digest = (i: number) => createHash('sha256').update(String(i)).digest()

describe(`a store with ${N}-entry lists`, () => {
  it(
    `follows a manifest of ${N} chunks`,
    async () => {
      const store = await openStore(join(dir, 'chunks'), { create: true })
      const chunks: Array<[string, number]> = []
      for (let i = 0; i < N; i++) chunks.push([formatId('chunk', digest(i)), 1])
      const manifest = encodeManifest({ type: 'blob', size: N, sha256: '0'.repeat(64), chunks })
      const id = store.putObject('manifest', manifest)
      await store.commit()
      const { objects, missing } = await closure(store, [id])
      expect(objects.size).toBe(N + 1)
      expect(missing).toHaveLength(N)
      expect(await isComplete(store, id)).toBe(false)
      await store.close()
    },
    SLOW,
  )

  it(
    `checks a pack of ${N} manifests (mlvc fsck)`,
    async () => {
      const store = await openStore(join(dir, 'manifests'), { create: true })
      for (let i = 0; i < N; i++) {
        const sha256 = digest(i).toString('hex')
        store.putObject('manifest', encodeManifest({ type: 'blob', size: 0, sha256, chunks: [] }))
      }
      await store.commit()
      const report = await fsckStore(store)
      expect(report.issues).toEqual([])
      expect(report.manifests).toBe(N)
      await store.close()
    },
    SLOW,
  )
})
