import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { tensorDeltas } from '../checkpoint/index.ts'
import { isMlvcError, MlvcError } from '../core/index.ts'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import {
  ingestSource,
  isComplete,
  iterableSource,
  openStore,
  readBlob,
  type Store,
} from '../store/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { createFilterHandlers, type FilterContext } from './filter.ts'
import type { FilterHandlers } from './filter-process.ts'
import { openStatCache, type StatCache } from './stat-cache.ts'
import { formatStub, parseStub, type Stub } from './stub.ts'

/**
 * The clean and smudge logic with a fake context: a real store and stat cache in temporary folders,
 * and fakes for the remote (`fetch`) and for git (`hasBlob`, `recheck`). No git process runs.
 */
const root = tempDir('mlvc-filter')
let scratch: Store
beforeAll(async () => {
  scratch = await openStore(join(root, 'scratch'), { create: true, fsync: false })
})

interface Harness {
  workTree: string
  store: Store
  statCache: StatCache
  handlers: FilterHandlers
  warnings: string[]
  /** Each call of `fetch`, with the ids asked for. */
  fetched: string[][]
  /** The bytes `hasBlob` was asked about. */
  askedGit: string[]
  rechecked: string[][]
  /** What the fake remote holds, by file id; `fetch` puts it in the store. */
  remote: Map<string, Buffer>
}

interface HarnessOptions {
  inlineSmudgeLimit?: number
  missing?: FilterContext['missing']
  /** What the fake git answers when asked whether it holds a blob. @default false */
  gitHasBlob?: boolean
  signal?: AbortSignal
}

let count = 0

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = join(root, `t${count++}`)
  const workTree = join(dir, 'work')
  const gitDir = join(dir, 'git')
  mkdirSync(workTree, { recursive: true })
  mkdirSync(gitDir, { recursive: true })
  const store = await openStore(join(gitDir, 'mlvc'), { create: true, fsync: false })
  const statCache = await openStatCache(gitDir)
  const h: Omit<Harness, 'handlers'> = {
    workTree,
    store,
    statCache,
    warnings: [],
    fetched: [],
    askedGit: [],
    rechecked: [],
    remote: new Map(),
  }
  const handlers = createFilterHandlers({
    workTree,
    gitDir,
    store,
    statCache,
    inlineSmudgeLimit: options.inlineSmudgeLimit ?? 16 * 1024 * 1024,
    missing: options.missing ?? 'warn',
    signal: options.signal,
    warn: (message) => h.warnings.push(message),
    async fetch(ids) {
      h.fetched.push(ids)
      const missing: string[] = []
      for (const id of ids) {
        const bytes = h.remote.get(id)
        if (bytes) await ingestSource(store, iterableSource(packets(bytes)), { path: id })
        else missing.push(id)
      }
      await store.commit()
      return { missing, repaired: 0 }
    },
    git: {
      async hasBlob(data) {
        h.askedGit.push(Buffer.from(data).toString('utf8'))
        return options.gitHasBlob ?? false
      },
      async recheck(paths) {
        h.rechecked.push([...paths])
      },
    },
  })
  return { ...h, handlers }
}

/** The stub of `bytes` as a blob, stored in a scratch store only (not in any harness's store). */
async function stubOf(bytes: Buffer): Promise<Stub> {
  const blob = await ingestSource(scratch, iterableSource(packets(bytes)), { path: 'scratch' })
  await scratch.commit()
  return { size: blob.size, sha256: blob.sha256, id: blob.id }
}

/** Puts `bytes` in the harness's store, as a fetch would. */
async function storeBytes(h: Harness, bytes: Buffer): Promise<Stub> {
  const blob = await ingestSource(h.store, iterableSource(packets(bytes)), { path: 'put' })
  await h.store.commit()
  return { size: blob.size, sha256: blob.sha256, id: blob.id }
}

/** Content as git sends it: in packet-sized pieces. */
async function* packets(data: Uint8Array): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += 65516) yield Buffer.from(data.subarray(i, i + 65516))
}

function text(data: Uint8Array | 'delayed'): string {
  if (data === 'delayed') throw new Error('expected content, got "delayed"')
  return Buffer.from(data).toString('utf8')
}

/** Writes a work-tree file whose mtime is an hour old, so its stat-cache entry is not racy. */
function writeOld(path: string, data: Uint8Array): void {
  writeFileSync(path, data)
  const old = new Date(Date.now() - 3_600_000)
  utimesSync(path, old, old)
}

/** model.bin (100,000 bytes, an hour old) cleaned once: its stat-cache entry is trusted. */
async function cachedFile(h: Harness): Promise<{ path: string; data: Buffer; stub: string }> {
  const path = join(h.workTree, 'model.bin')
  const data = pseudoRandomBytes(100_000, 5)
  writeOld(path, data)
  const stub = text(await h.handlers.clean('model.bin', packets(data)))
  expect(h.statCache.get('model.bin')?.racy).toBe(false)
  return { path, data, stub }
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (isMlvcError(err)) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error('expected an MlvcError')
}

describe('clean', () => {
  it('stores a file and returns its stub; the store gives back the same bytes', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(300_000, 7)
    writeFileSync(join(h.workTree, 'model.bin'), data)
    const stub = parseStub(await h.handlers.clean('model.bin', packets(data)), 'model.bin')
    expect(stub).toMatchObject({ size: data.length, sha256: (await stubOf(data)).sha256 })
    const id = stub?.id ?? ''
    expect(await isComplete(h.store, id)).toBe(true)
    expect((await readBlob(h.store, id, { deltas: tensorDeltas() })).equals(data)).toBe(true)
    expect(h.statCache.get('model.bin')).toMatchObject({ size: data.length, sha256: stub?.sha256 })
  })

  it('writes one line per tensor in the stub of a checkpoint', async () => {
    const h = await harness()
    const data = buildSafetensors([
      { name: 'w', dtype: 'F32', shape: [2, 2], data: new Uint8Array(16) },
      { name: 'b', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
    ])
    writeFileSync(join(h.workTree, 'model.safetensors'), data)
    const stub = text(await h.handlers.clean('model.safetensors', packets(data)))
    expect(stub).toMatch(/^format: safetensors$/m)
    expect(stub).toMatch(/^tensors: 2 \(6 elements\)$/m)
    expect(stub).toMatch(/^tensor: w F32 \[2,2\] /m)
    expect(stub).toMatch(/^tensor: b F32 \[2\] /m)
  })

  it('is idempotent: a stub cleans to itself, with its content in the store or not', async () => {
    const h = await harness()
    const present = formatStub(await storeBytes(h, pseudoRandomBytes(5000, 1)))
    const absent = formatStub(await stubOf(pseudoRandomBytes(5000, 2)))
    for (const [path, stub] of [
      ['present.bin', present],
      ['absent.bin', absent],
    ] as const) {
      writeFileSync(join(h.workTree, path), stub)
      expect(text(await h.handlers.clean(path, packets(Buffer.from(stub))))).toBe(stub)
    }
    expect(h.askedGit).toEqual([])
  })

  it('refuses a stub that lies about its content, unless git already holds those bytes', async () => {
    const stored = pseudoRandomBytes(5000, 3)
    const lying = (stub: Stub) => formatStub({ ...stub, size: stub.size + 1 })
    const h = await harness()
    const stub = lying(await storeBytes(h, stored))
    writeFileSync(join(h.workTree, 'model.bin'), stub)
    expect(await code(h.handlers.clean('model.bin', packets(Buffer.from(stub))))).toBe(
      'BAD_STUB: model.bin: stub says size 5001 but its content id names 5000 bytes',
    )
    expect(h.askedGit).toEqual([stub])

    // Checked out as it is (git has the blob): it must clean to itself, or `git status` fails.
    const known = await harness({ gitHasBlob: true })
    await storeBytes(known, stored)
    writeFileSync(join(known.workTree, 'model.bin'), stub)
    expect(text(await known.handlers.clean('model.bin', packets(Buffer.from(stub))))).toBe(stub)
  })

  it('refuses a malformed stub naming the file, unless git already holds those bytes', async () => {
    const bad = `${formatStub(await stubOf(Buffer.from('x'))).split('\n')[0]}\nsize: many\n`
    const h = await harness()
    writeFileSync(join(h.workTree, 'bad.bin'), bad)
    expect(await code(h.handlers.clean('bad.bin', packets(Buffer.from(bad))))).toBe(
      'BAD_STUB: bad.bin: malformed mlvc stub (size "many" is not a byte count)',
    )
    const known = await harness({ gitHasBlob: true })
    writeFileSync(join(known.workTree, 'bad.bin'), bad)
    expect(text(await known.handlers.clean('bad.bin', packets(Buffer.from(bad))))).toBe(bad)
  })

  it('bytes with no file behind them (hash-object --stdin) are stored as a plain file', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(2000, 4)
    const stub = text(await h.handlers.clean('gone.bin', packets(data)))
    expect(stub).toBe(formatStub(await stubOf(data)))
    expect(h.statCache.get('gone.bin')).toBeUndefined()
  })
})

describe('clean with the stat cache', () => {
  it('answers from the cache without reading the bytes when the stat data is unchanged', async () => {
    const h = await harness()
    const { data, stub } = await cachedFile(h)
    // Same length, other bytes: only a cache hit, which does not look at them, returns the stub.
    const other = pseudoRandomBytes(100_000, 6)
    expect(text(await h.handlers.clean('model.bin', packets(other)))).toBe(stub)
    expect(await code(h.handlers.clean('model.bin', packets(data.subarray(1))))).toBe(
      'IO: model.bin: git sent 99999 bytes but the file has 100000',
    )
  })

  it('a stub cleaned under the path of a cached file is cleaned as a stub (hash-object --stdin --path)', async () => {
    const h = await harness()
    const { stub } = await cachedFile(h)
    // Git cleans bytes that are not the file (merge.renormalize, hash-object --stdin --path): the
    // file's stat data is unchanged, but what git sends is its stub, which must clean to itself.
    expect(text(await h.handlers.clean('model.bin', packets(Buffer.from(stub))))).toBe(stub)
    const other = formatStub(await stubOf(pseudoRandomBytes(3000, 9)))
    expect(text(await h.handlers.clean('model.bin', packets(Buffer.from(other))))).toBe(other)
  })

  it('does not trust a racy entry (recorded within two seconds of the mtime): it hashes', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(100_000, 5)
    // An mtime in the future is within two seconds of now however long the clean takes.
    const path = join(h.workTree, 'model.bin')
    writeFileSync(path, data)
    const soon = new Date(Date.now() + 60_000)
    utimesSync(path, soon, soon)
    await h.handlers.clean('model.bin', packets(data))
    expect(h.statCache.get('model.bin')?.racy).toBe(true)
    // The stat data is unchanged, but a write in the same clock tick would not have changed it:
    // git's bytes are hashed, found different from the file's, and refused.
    const other = pseudoRandomBytes(100_000, 6)
    expect(await code(h.handlers.clean('model.bin', packets(other)))).toBe(
      'IO: model.bin changed while git was adding it',
    )
  })

  it('a touched file is hashed and keeps its stub; a file changed in place is stored again', async () => {
    const h = await harness()
    const { path, data, stub } = await cachedFile(h)
    const touched = new Date(Date.now() - 1_800_000)
    utimesSync(path, touched, touched)
    expect(text(await h.handlers.clean('model.bin', packets(data)))).toBe(stub)
    expect(h.statCache.get('model.bin')?.mtimeNs).toBe(
      statSync(path, { bigint: true }).mtimeNs.toString(),
    )

    const changed = pseudoRandomBytes(100_000, 6)
    writeOld(path, changed) // same size and inode, other times
    const again = parseStub(await h.handlers.clean('model.bin', packets(changed)), 'model.bin')
    expect(again?.sha256).toBe((await stubOf(changed)).sha256)
  })

  it('a file that changes while git adds it is refused, naming it', async () => {
    const h = await harness()
    const { path } = await cachedFile(h)
    writeOld(path, pseudoRandomBytes(100_000, 6))
    // git read one version of the file; the work tree now holds another.
    const gitSaw = pseudoRandomBytes(100_000, 7)
    expect(await code(h.handlers.clean('model.bin', packets(gitSaw)))).toBe(
      'IO: model.bin changed while git was adding it',
    )
  })
})

describe('smudge', () => {
  it('gives the content of a stub whose content is in the store', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(50_000, 8)
    const stub = formatStub(await storeBytes(h, data))
    const out = await h.handlers.smudge('model.bin', packets(Buffer.from(stub)), false)
    expect(out !== 'delayed' && Buffer.from(out).equals(data)).toBe(true)
    expect(h.fetched).toEqual([])
  })

  it('passes through bytes that are not a stub (committed before the file was tracked)', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(200_000, 9)
    const out = await h.handlers.smudge('raw.bin', packets(data), true)
    expect(out !== 'delayed' && Buffer.from(out).equals(data)).toBe(true)
  })

  it('defers a file over the inline limit: git gets the stub, finish writes the content', async () => {
    const h = await harness({ inlineSmudgeLimit: 1000 })
    const data = pseudoRandomBytes(20_000, 10)
    const stub = formatStub(await storeBytes(h, data))
    const out = text(await h.handlers.smudge('big.bin', packets(Buffer.from(stub)), false))
    expect(out).toBe(stub)
    writeFileSync(join(h.workTree, 'big.bin'), out) // what git does with it
    await h.handlers.finish()
    expect(readFileSync(join(h.workTree, 'big.bin')).equals(data)).toBe(true)
    expect(h.rechecked).toEqual([['big.bin']])
    expect(h.statCache.get('big.bin')).toMatchObject({ size: data.length, racy: false })
    expect(h.warnings).toEqual([])
  })

  it('finish leaves a file the user changed meanwhile alone, and after Ctrl-C writes nothing', async () => {
    const h = await harness({ inlineSmudgeLimit: 1000 })
    const stub = formatStub(await storeBytes(h, pseudoRandomBytes(20_000, 10)))
    await h.handlers.smudge('big.bin', packets(Buffer.from(stub)), false)
    writeFileSync(join(h.workTree, 'big.bin'), 'my own edit\n')
    await h.handlers.finish()
    expect(readFileSync(join(h.workTree, 'big.bin'), 'utf8')).toBe('my own edit\n')
    expect(h.rechecked).toEqual([[]])

    const abort = new AbortController()
    const stopped = await harness({ inlineSmudgeLimit: 1000, signal: abort.signal })
    await storeBytes(stopped, pseudoRandomBytes(20_000, 10))
    await stopped.handlers.smudge('big.bin', packets(Buffer.from(stub)), false)
    writeFileSync(join(stopped.workTree, 'big.bin'), stub)
    abort.abort()
    await stopped.handlers.finish()
    expect(readFileSync(join(stopped.workTree, 'big.bin'), 'utf8')).toBe(stub)
    expect(stopped.warnings).toEqual([
      'mlvc: interrupted; left as stubs: big.bin. Run `mlvc pull` to finish.',
    ])
  })

  it('fetches missing content at once when git cannot delay', async () => {
    const h = await harness()
    const data = pseudoRandomBytes(30_000, 11)
    const stub = await stubOf(data)
    h.remote.set(stub.id, data)
    const out = await h.handlers.smudge('model.bin', packets(Buffer.from(formatStub(stub))), false)
    expect(out !== 'delayed' && Buffer.from(out).equals(data)).toBe(true)
    expect(h.fetched).toEqual([[stub.id]])
  })
})

describe('content missing everywhere', () => {
  it('warns and leaves the stub, which then cleans to itself (git.missingIsError unset)', async () => {
    const h = await harness()
    const stub = await stubOf(pseudoRandomBytes(30_000, 12))
    const stubText = formatStub(stub)
    const out = await h.handlers.smudge('model.bin', packets(Buffer.from(stubText)), false)
    expect(text(out)).toBe(stubText)
    expect(h.fetched).toEqual([[stub.id]])
    expect(h.warnings).toEqual([
      `mlvc: model.bin: its content (${stub.id}) is not in the local store and could not be fetched; left as a stub. Run \`mlvc pull\` when a remote is reachable.`,
    ])
    writeFileSync(join(h.workTree, 'model.bin'), stubText)
    expect(text(await h.handlers.clean('model.bin', packets(Buffer.from(stubText))))).toBe(stubText)
  })

  it('fails naming the file with git.missingIsError', async () => {
    const h = await harness({ missing: 'error' })
    const stub = await stubOf(pseudoRandomBytes(30_000, 12))
    const smudged = h.handlers.smudge('model.bin', packets(Buffer.from(formatStub(stub))), false)
    expect(await code(smudged)).toBe(
      `MISSING_OBJECT: model.bin: its content (${stub.id}) is not in the local store and could not be fetched`,
    )
    expect(h.warnings).toEqual([])
  })

  it('a malformed stub is left as it is with one warning; it then cleans to itself', async () => {
    const h = await harness()
    const bad = `${formatStub(await stubOf(Buffer.from('x'))).split('\n')[0]}\nsize: many\n`
    const out = await h.handlers.smudge('bad.bin', packets(Buffer.from(bad)), true)
    expect(text(out)).toBe(bad)
    expect(h.warnings).toEqual([
      'mlvc: bad.bin: malformed mlvc stub (size "many" is not a byte count); left as it is in the work tree (mlvc fsck lists every such stub)',
    ])
    writeFileSync(join(h.workTree, 'bad.bin'), bad)
    expect(text(await h.handlers.clean('bad.bin', packets(Buffer.from(bad))))).toBe(bad)
    expect(h.askedGit).toEqual([])
  })

  it('a stub that lies about content in the store is left as it is, never written', async () => {
    const h = await harness()
    const stub = await storeBytes(h, pseudoRandomBytes(5000, 13))
    const lying = formatStub({ ...stub, sha256: 'ab'.repeat(32) })
    const out = await h.handlers.smudge('model.bin', packets(Buffer.from(lying)), false)
    expect(text(out)).toBe(lying)
    expect(h.warnings).toHaveLength(1)
    expect(h.warnings[0]).toMatch(/^mlvc: model\.bin: stub says sha256 (ab)+ but its content id/)
  })
})

describe('delayed smudges (can-delay=1)', () => {
  it('delays missing content, fetches it in one batch when git asks, then gives it', async () => {
    const h = await harness()
    const a = pseudoRandomBytes(30_000, 14)
    const b = pseudoRandomBytes(40_000, 15)
    const [sa, sb] = [await stubOf(a), await stubOf(b)]
    h.remote.set(sa.id, a)
    h.remote.set(sb.id, b)
    const local = pseudoRandomBytes(1000, 16)
    const sl = formatStub(await storeBytes(h, local))

    expect(await h.handlers.smudge('a.bin', packets(Buffer.from(formatStub(sa))), true)).toBe(
      'delayed',
    )
    expect(await h.handlers.smudge('b.bin', packets(Buffer.from(formatStub(sb))), true)).toBe(
      'delayed',
    )
    // The same content under a second name is fetched once.
    expect(await h.handlers.smudge('a2.bin', packets(Buffer.from(formatStub(sa))), true)).toBe(
      'delayed',
    )
    // Content already local is never delayed.
    const now = await h.handlers.smudge('local.bin', packets(Buffer.from(sl)), true)
    expect(now !== 'delayed' && Buffer.from(now).equals(local)).toBe(true)
    expect(h.fetched).toEqual([])

    expect((await h.handlers.availableBlobs()).sort()).toEqual(['a.bin', 'a2.bin', 'b.bin'])
    expect(h.fetched).toEqual([[sa.id, sb.id]])
    expect(await h.handlers.availableBlobs()).toEqual([])

    // Git asks again for each path with empty content.
    for (const [path, data] of [
      ['a.bin', a],
      ['b.bin', b],
      ['a2.bin', a],
    ] as const) {
      const out = await h.handlers.smudge(path, packets(Buffer.alloc(0)), true)
      expect(out !== 'delayed' && Buffer.from(out).equals(data)).toBe(true)
    }
    expect(h.warnings).toEqual([])
  })

  it('a delayed file the remote lacks is left as a stub with a warning when git asks again', async () => {
    const h = await harness()
    const stub = await stubOf(pseudoRandomBytes(30_000, 17))
    const stubText = formatStub(stub)
    expect(await h.handlers.smudge('a.bin', packets(Buffer.from(stubText)), true)).toBe('delayed')
    expect(await h.handlers.availableBlobs()).toEqual(['a.bin'])
    const out = await h.handlers.smudge('a.bin', packets(Buffer.alloc(0)), true)
    expect(text(out)).toBe(stubText)
    expect(h.warnings).toHaveLength(1)
    expect(h.warnings[0]).toMatch(/^mlvc: a\.bin: its content \(\w+\) is not in the local store/)
  })
})

describe('report', () => {
  it('names the file once in the warning', async () => {
    const h = await harness()
    // An error that names its file carries the path; any other gets the path put in front.
    h.handlers.report('a.bin', new MlvcError('CORRUPT', 'a.bin: broken', { path: 'a.bin' }))
    h.handlers.report('b.bin', new Error('broken'))
    expect(h.warnings).toEqual(['mlvc: a.bin: broken', 'mlvc: b.bin: broken'])
  })
})
