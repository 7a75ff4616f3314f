import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ingestFile, materialize, openStore } from '../store/index.ts'
import { pseudoRandomBytes, tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { openRemote } from './config.ts'
import { newKey, SEGMENT } from './crypt.ts'
import { formatKey, saveKey } from './keyring.ts'
import { pushObjects } from './push.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-encrypted')
const key = newKey()
const saved = process.env.MLVC_CONFIG_HOME

beforeAll(async () => {
  process.env.MLVC_CONFIG_HOME = join(dir, 'config')
  await saveKey(key)
})
afterAll(() => {
  process.env.MLVC_CONFIG_HOME = saved
})

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
}

describe('an encrypted folder remote', () => {
  const folder = join(dir, 'remote')
  const remote = openRemote({ name: 'vault', url: folder, encryption: key.id }, dir)

  test('ranges read back exactly, across segments, into a given buffer or a new one', async () => {
    const plain = Buffer.from(pseudoRandomBytes(3 * SEGMENT + 1234, 9))
    const remote = openRemote(
      { name: 'ranges', url: join(dir, 'remote-ranges'), encryption: key.id },
      dir,
    )
    await remote.put('ranges/object', plain)
    const into = Buffer.alloc(plain.length + 100, 0xee)
    for (const [offset, length] of [
      [0, 1],
      [0, plain.length],
      [SEGMENT - 3, 7],
      [SEGMENT, SEGMENT],
      [5, 2 * SEGMENT + 17],
      [plain.length - 10, 10],
    ] as Array<[number, number]>) {
      const want = plain.subarray(offset, offset + length)
      expect((await remote.getRange('ranges/object', offset, length)).equals(want)).toBe(true)
      const got = await remote.getRange('ranges/object', offset, length, { into })
      expect(got.equals(want)).toBe(true)
      expect(got.buffer).toBe(into.buffer)
    }
  })

  test('push and fetch round-trip; the folder holds neither ids, names nor plaintext', async () => {
    const store = await openStore(join(dir, 'store-a'), { create: true })
    const path = join(dir, 'model.bin')
    const data = writeRandomFile(path, 5 * MiB + 3, 4)
    const text = join(dir, 'notes.txt')
    writeFileSync(text, 'the secret training recipe '.repeat(5000))
    const ids = [(await ingestFile(store, path)).id, (await ingestFile(store, text)).id]
    await store.commit()
    await pushObjects(store, remote, ids)
    const stored = files(folder)
    expect(stored.some((p) => p.endsWith('mlvc-encryption.json'))).toBe(true)
    for (const p of stored) {
      expect(p).not.toMatch(/packs|\.pack|\.idx|pack-/)
      const bytes = readFileSync(p)
      expect(bytes.includes(Buffer.from('secret training recipe'))).toBe(false)
      for (const id of ids) expect(bytes.includes(Buffer.from(id))).toBe(false)
    }
    const other = await openStore(join(dir, 'store-b'), { create: true })
    expect((await fetchObjects(other, remote, ids)).missing).toEqual([])
    await materialize(other, ids[0] as string, join(dir, 'out.bin'))
    expect(readFileSync(join(dir, 'out.bin')).equals(data)).toBe(true)
    // Deduplication among key holders: a second push sends nothing.
    expect((await pushObjects(other, remote, ids)).uploadedObjects).toBe(0)
    await Promise.all([store.close(), other.close()])
  })

  test('without the key, with another key, or opened as plain: one clear line', async () => {
    const ids = ['bagaaierakhcdssdb3smdzdycv5ypzdt2hlkwsrcal275gxbjn7bmaescoaoa']
    const store = await openStore(join(dir, 'store-c'), { create: true })
    const other = newKey()
    const noKey = openRemote({ name: 'vault', url: folder, encryption: other.id }, dir)
    await expect(fetchObjects(store, noKey, ids)).rejects.toThrow(
      `remote vault is encrypted with key ${other.id}, which this machine does not have`,
    )
    writeFileSync(join(dir, 'other.key'), formatKey(other))
    const wrong = openRemote(
      { name: 'vault', url: folder, encryption: other.id, keyFile: join(dir, 'other.key') },
      dir,
    )
    await expect(fetchObjects(store, wrong, ids)).rejects.toThrow(
      `remote vault is encrypted with key ${key.id}, not ${other.id}`,
    )
    const plain = openRemote({ name: 'vault', url: folder }, dir)
    await expect(fetchObjects(store, plain, ids)).rejects.toThrow(
      'remote vault is encrypted, but no key is configured for it',
    )
    await store.close()
  })

  test('a swapped or tampered object is detected and never used', async () => {
    const packs = files(folder).filter((p) => !p.endsWith('.json'))
    expect(packs.length).toBe(2) // one pack and its index
    const [largest, second] = packs.sort(
      (a, b) => readFileSync(b).length - readFileSync(a).length,
    ) as [string, string]
    const original = readFileSync(largest)
    writeFileSync(largest, readFileSync(second))
    const store = await openStore(join(dir, 'store-d'), { create: true })
    const listed = []
    for await (const info of remote.list('packs/')) listed.push(info.key)
    const packKey = listed.find((k) => k.endsWith('.pack')) as string
    const swapped = await remote.get(packKey).then(
      () => undefined,
      (err: Error) => err.message,
    )
    writeFileSync(largest, original)
    const tampered = Buffer.from(original)
    tampered.writeUInt8(tampered.readUInt8(1000) ^ 1, 1000)
    writeFileSync(largest, tampered)
    const flipped = await remote.get(packKey).then(
      () => undefined,
      (err: Error) => err.message,
    )
    writeFileSync(largest, original)
    expect(swapped).toMatch(
      /^remote vault: packs\/pack-.*\.pack: (does not decrypt|encrypted object has)/,
    )
    expect(flipped).toMatch(/^remote vault: packs\/pack-.*\.pack: does not decrypt with key/)
    await store.close()
  })
})
