import { join } from 'node:path'
import { checkpointStubLines, ingestCheckpoint, tensorDeltas } from '../checkpoint/index.ts'
import { isMlvcError, MlvcError } from '../core/index.ts'
import {
  type ByteSource,
  dropReady,
  hashSource,
  ingestSource,
  isComplete,
  iterableSource,
  prefixedSource,
  readBlob,
  type Store,
} from '../store/index.ts'
import type { FilterHandlers } from './filter-process.ts'
import {
  type FileIdentity,
  fileIdentity,
  type StatCache,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
import { formatStub, looksLikeStub, MAX_STUB_BYTES, parseStub, type Stub } from './stub.ts'
import { recheckInIndex, writeContentOverStub } from './worktree.ts'

export interface FilterContext {
  workTree: string
  gitDir: string
  store: Store
  statCache: StatCache
  /**
   * Files up to this size are smudged through git. Larger ones are smudged as their stub and
   * written into the work tree by mlvc when git is done, because git holds a smudge's whole
   * output in memory. @default 16 MiB
   */
  inlineSmudgeLimit: number
  /** Content missing locally and on the remote: leave the stub with a warning, or fail. */
  missing: 'warn' | 'error'
  /** Fetches the given file ids from the default remote; resolves with the ids still missing. */
  fetch(ids: string[]): Promise<string[]>
  warn(message: string): void
  /** Ctrl-C: files not yet written are left as stubs (consistent; `mlvc pull` completes them). */
  signal?: AbortSignal | undefined
}

async function readHead(source: ByteSource): Promise<Buffer> {
  const head = Buffer.allocUnsafe(MAX_STUB_BYTES + 1)
  return head.subarray(0, await source.read(head))
}

async function hashRest(
  head: Uint8Array,
  source: ByteSource,
): Promise<{ sha256: string; size: number }> {
  return hashSource(prefixedSource(Buffer.from(head), source))
}

async function drainCount(source: ByteSource): Promise<number> {
  const block = Buffer.allocUnsafe(4 * 1024 * 1024)
  let size = 0
  for (let n = await source.read(block); n > 0; n = await source.read(block)) size += n
  return size
}

/** The file id a cached stub names, if it still parses. */
function previousId(stub: string, path: string): string | undefined {
  try {
    return parseStub(Buffer.from(stub), path)?.id
  } catch {
    return undefined
  }
}

/** The clean and smudge operations behind `mlvc filter-process`. */
export function createFilterHandlers(ctx: FilterContext): FilterHandlers {
  const { store, statCache } = ctx
  const deferred: Array<{ path: string; stub: Stub }> = []
  const delayed = new Map<string, Stub>()
  const ready = new Set<string>()
  const available = new Map<string, boolean>()

  async function isAvailable(id: string): Promise<boolean> {
    let known = available.get(id)
    if (known === undefined) {
      known = await isComplete(store, id)
      available.set(id, known)
    }
    return known
  }

  function remember(
    path: string,
    identity: FileIdentity | undefined,
    sha256: string,
    size: number,
    stub: string,
  ): void {
    if (identity && identity.size === size) statCache.set(path, statEntry(identity, sha256, stub))
  }

  async function cleanChanged(
    path: string,
    source: ByteSource,
    identity: FileIdentity | undefined,
  ): Promise<string> {
    const head = await readHead(source)
    if (head.length <= MAX_STUB_BYTES && looksLikeStub(head)) {
      // Already a stub (a stub checked out without its data, or merge.renormalize): clean is idempotent.
      return formatStub(parseStub(head, path) as Stub)
    }
    const cached = statCache.get(path)
    const previous = cached ? previousId(cached.stub, path) : undefined
    if (cached && identity && cached.size === identity.size && cached.ino === identity.ino) {
      // Probably only touched: hashing is enough to know.
      const { sha256, size } = await hashRest(head, source)
      if (sha256 === cached.sha256) {
        remember(path, identity, sha256, size, cached.stub)
        return cached.stub
      }
      // Changed in place: git's bytes are consumed, so the file is read again (and must match).
      const stub = await store_(path, undefined, previous, identity)
      if (!stub.includes(`sha256: ${sha256}\n`)) {
        throw new MlvcError('IO', `${path} changed while git was adding it`, {
          hint: 'run git add again',
        })
      }
      return stub
    }
    return store_(path, prefixedSource(Buffer.from(head), source), previous, identity)
  }

  /**
   * Stores the file (a checkpoint tensor by tensor, anything else as a blob) from git's bytes or,
   * without a source, from the work tree; returns its stub. The layout and statistics are read from
   * the work-tree file, so it must not change meanwhile.
   */
  async function store_(
    path: string,
    source: ByteSource | undefined,
    previous: string | undefined,
    identity: FileIdentity | undefined,
  ): Promise<string> {
    const abs = join(ctx.workTree, path)
    if (!identity && source) {
      // Bytes with no file behind them (git hash-object --stdin --path, a path being deleted):
      // there is no layout to read, so they are stored as a plain file.
      const blob = await ingestSource(store, source, { path })
      await store.commit()
      return formatStub({ size: blob.size, sha256: blob.sha256, id: blob.id })
    }
    const result = await ingestCheckpoint(store, abs, source, { previous, displayPath: path })
    const after = await fileIdentity(abs)
    if (identity && after && !sameIdentity(identity, after)) {
      throw new MlvcError('IO', `${path} changed while git was adding it`, {
        hint: 'run git add again',
      })
    }
    await store.commit()
    const extra = result.meta
      ? checkpointStubLines(result.meta)
      : result.note
        ? [`note: stored as a plain file: ${result.note}`]
        : []
    const stub = formatStub({
      size: result.size,
      sha256: result.sha256,
      id: result.id,
      ...(extra.length > 0 ? { extra } : {}),
    })
    remember(path, identity, result.sha256, result.size, stub)
    return stub
  }

  function missingContent(path: string, stub: Stub): Uint8Array {
    const message = `${path}: its content (${stub.id}) is not in the local store and could not be fetched`
    if (ctx.missing === 'error') {
      throw new MlvcError('MISSING_OBJECT', message, {
        hint: 'run mlvc pull once a remote is reachable',
      })
    }
    ctx.warn(`mlvc: ${message}; left as a stub. Run \`mlvc pull\` when a remote is reachable.`)
    return Buffer.from(formatStub(stub))
  }

  async function produce(
    path: string,
    stub: Stub,
    canDelay: boolean,
  ): Promise<Uint8Array | 'delayed'> {
    if (!(await isAvailable(stub.id))) {
      if (canDelay) {
        delayed.set(path, stub)
        return 'delayed'
      }
      const still = await ctx.fetch([stub.id])
      available.delete(stub.id)
      if (still.length > 0 || !(await isAvailable(stub.id))) return missingContent(path, stub)
    }
    if (stub.size > ctx.inlineSmudgeLimit) {
      deferred.push({ path, stub })
      return Buffer.from(formatStub(stub))
    }
    const bytes = await readBlob(store, stub.id, { deltas: tensorDeltas() })
    // Written out by a merge, but small enough to come from the store: nobody will move it.
    dropReady(store, stub.id)
    return bytes
  }

  return {
    async clean(path, content) {
      const identity = await fileIdentity(join(ctx.workTree, path))
      const cached = statCache.get(path)
      const source = iterableSource(content)
      if (cached && !cached.racy && identity && sameIdentity(cached, identity)) {
        const size = await drainCount(source)
        if (size === cached.size) return Buffer.from(cached.stub)
        throw new MlvcError(
          'IO',
          `${path}: git sent ${size} bytes but the file has ${cached.size}`,
          {
            hint: 'run git add again',
          },
        )
      }
      return Buffer.from(await cleanChanged(path, source, identity))
    },
    async smudge(path, content, canDelay) {
      const waiting = delayed.get(path)
      if (waiting && ready.has(path)) {
        delayed.delete(path)
        ready.delete(path)
        return produce(path, waiting, false)
      }
      const source = iterableSource(content)
      const head = await readHead(source)
      if (head.length > MAX_STUB_BYTES || !looksLikeStub(head)) {
        // Not a stub (committed before the file was tracked): pass it through unchanged.
        const rest: Buffer[] = [Buffer.from(head)]
        const block = Buffer.allocUnsafe(4 * 1024 * 1024)
        for (let n = await source.read(block); n > 0; n = await source.read(block))
          rest.push(Buffer.from(block.subarray(0, n)))
        return Buffer.concat(rest)
      }
      return produce(path, parseStub(head, path) as Stub, canDelay)
    },
    async availableBlobs() {
      const pending = [...delayed.keys()].filter((p) => !ready.has(p))
      if (pending.length === 0) return []
      const ids = [...new Set(pending.map((p) => (delayed.get(p) as Stub).id))]
      await ctx.fetch(ids)
      for (const id of ids) available.delete(id)
      for (const p of pending) ready.add(p)
      return pending
    },
    report(path, err) {
      const message = err instanceof Error ? err.message : String(err)
      ctx.warn(`mlvc: ${message.startsWith(path) ? '' : `${path}: `}${message}`)
    },
    async finish() {
      const written: string[] = []
      const writer = { workTree: ctx.workTree, gitDir: ctx.gitDir, store, statCache }
      for (const [i, { path, stub }] of deferred.entries()) {
        if (ctx.signal?.aborted) {
          const left = deferred.slice(i).map((d) => d.path)
          ctx.warn(
            `mlvc: interrupted; left as stubs: ${left.join(', ')}. Run \`mlvc pull\` to finish.`,
          )
          break
        }
        try {
          if (await writeContentOverStub(writer, path, stub, { signal: ctx.signal }))
            written.push(path)
        } catch (err) {
          if (isMlvcError(err, 'INTERRUPTED')) {
            const left = deferred.slice(i).map((d) => d.path)
            ctx.warn(
              `mlvc: interrupted; left as stubs: ${left.join(', ')}. Run \`mlvc pull\` to finish.`,
            )
            break
          }
          const reason = (err as Error).message
          ctx.warn(`mlvc: ${path}: could not write its content: ${reason}; run \`mlvc pull\``)
        }
      }
      await statCache.save()
      try {
        await recheckInIndex(ctx.workTree, written)
      } catch (err) {
        const paths = written.join(', ')
        ctx.warn(
          `mlvc: ${(err as Error).message}; git status may list ${paths} as modified until git add`,
        )
      }
    },
  }
}
