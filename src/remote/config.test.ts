import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type ConfigTree, layeredConfig } from '../core/index.ts'
import { ingestFile, openStore } from '../store/index.ts'
import { tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { chooseRemote, listRemotes, openRemote } from './config.ts'
import { pushObjects } from './push.ts'
import type { Remote } from './remote.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-remote-config')

describe('transfer.concurrency', () => {
  test('a whole number from 1 to 64, or unset; anything else is BAD_CONFIG naming the key', () => {
    const remotes = { origin: { url: '/r' } }
    const config = (tree: ConfigTree) => layeredConfig([{ file: '/repo/.mlvc/config.yaml', tree }])
    expect(listRemotes(config({ remotes }))[0]?.concurrency).toBeUndefined()
    expect(listRemotes(config({ remotes, transfer: { concurrency: 12 } }))[0]?.concurrency).toBe(12)
    for (const bad of [0, 65, 2.5, '8', true]) {
      expect(() => listRemotes(config({ remotes, transfer: { concurrency: bad } }))).toThrow(
        expect.objectContaining({
          code: 'BAD_CONFIG',
          message: expect.stringMatching(/config\.yaml: transfer\.concurrency must be/),
        }),
      )
    }
  })

  test('every remote carries it, and a fetch keeps that many range requests in flight', async () => {
    const tree = { transfer: { concurrency: 3 }, remotes: { origin: { url: join(dir, 'remote') } } }
    const config = layeredConfig([{ file: 'config.yaml', tree }])
    const folder = openRemote(chooseRemote(config, 'origin'), dir)
    expect(folder.concurrency).toBe(3)
    const s3 = openRemote({ ...chooseRemote(config), url: 's3://bucket/prefix' }, dir)
    expect(s3.concurrency).toBe(3)

    const store = await openStore(join(dir, 'store-a'), { create: true })
    const path = join(dir, 'file')
    writeRandomFile(path, 40 * MiB, 5)
    const id = (await ingestFile(store, path)).id
    await store.commit()
    await pushObjects(store, folder, [id])
    let inFlight = 0
    let most = 0
    const counting: Remote = {
      ...folder,
      async getRange(key, offset, length, options) {
        most = Math.max(most, ++inFlight)
        try {
          await new Promise((done) => setTimeout(done, 5))
          return await folder.getRange(key, offset, length, options)
        } finally {
          inFlight--
        }
      },
    }
    const other = await openStore(join(dir, 'store-b'), { create: true })
    const fetched = await fetchObjects(other, counting, [id])
    expect(fetched.missing).toEqual([])
    expect(fetched.requests).toBeGreaterThan(3)
    expect(most).toBe(3)
    await Promise.all([store.close(), other.close()])
  })
})
