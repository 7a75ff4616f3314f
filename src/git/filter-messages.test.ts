import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ingestCheckpoint } from '../checkpoint/index.ts'
import { openStore } from '../store/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { createFilterHandlers } from './filter.ts'
import { openStatCache } from './stat-cache.ts'
import { formatStub } from './stub.ts'

const dir = tempDir('mlvc-filter-messages')

async function* once(data: Uint8Array): AsyncIterable<Buffer> {
  yield Buffer.from(data)
}

describe('the filter names the file of a failed write once', () => {
  // The message was cut with .replace(`${path}: `, ''), which also cut the path out of
  // "writing m.bin: no such file or directory", leaving "writing no such file or directory".
  it('keeps the path inside a system error', async () => {
    const workTree = join(dir, 'work')
    const gitDir = join(dir, 'git')
    mkdirSync(workTree, { recursive: true })
    mkdirSync(gitDir, { recursive: true })
    // A temporary folder in which no file can be created: the write fails as it opens its file.
    symlinkSync('/proc/self', join(gitDir, 'mlvc-tmp'))
    const store = await openStore(join(dir, 'store'), { create: true, fsync: false })
    const source = join(dir, 'm.src')
    writeFileSync(source, pseudoRandomBytes(4096))
    const { size, sha256, id } = await ingestCheckpoint(store, source, undefined)
    await store.commit()
    const text = formatStub({ size, sha256, id })
    const warnings: string[] = []
    const handlers = createFilterHandlers({
      workTree,
      gitDir,
      store,
      statCache: await openStatCache(gitDir),
      inlineSmudgeLimit: 0,
      missing: 'warn',
      fetch: async () => ({ missing: [], repaired: 0 }),
      warn: (message) => warnings.push(message),
    })
    // Larger than the inline limit: git gets the stub, and mlvc writes the content when git is done.
    const given = await handlers.smudge('m.bin', once(Buffer.from(text)), false)
    expect(Buffer.from(given as Uint8Array).toString()).toBe(text)
    writeFileSync(join(workTree, 'm.bin'), text)
    await handlers.finish()
    await store.close()
    expect(warnings).toEqual([
      'mlvc: m.bin: could not write its content: writing m.bin: no such file or directory; run `mlvc pull`',
    ])
  })
})
