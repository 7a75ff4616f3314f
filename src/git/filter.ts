import { join } from 'node:path'
import { checkpointStubLines, ingestCheckpoint, tensorDeltas } from '../checkpoint/index.ts'
import { fileError, isMlvcError, MlvcError, naming } from '../core/index.ts'
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
import { runGit } from './exec.ts'
import type { FilterHandlers } from './filter-process.ts'
import {
  type FileIdentity,
  fileIdentity,
  type StatCache,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
import {
  formatStub,
  looksLikeStub,
  MAX_STUB_BYTES,
  parseStub,
  readStub,
  type Stub,
  stubProblemError,
} from './stub.ts'
import { checkStubContent } from './stub-check.ts'
import { recheckInIndex, writeContentOverStub } from './worktree.ts'

/** What the filter asks of git itself. */
export interface FilterGit {
  /** True when git's object database holds a blob with exactly these bytes. */
  hasBlob(data: Uint8Array): Promise<boolean>
  /** Makes git read these files again: mlvc replaced their stubs after git's checkout. */
  recheck(paths: readonly string[]): Promise<void>
}

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
  /**
   * A file whose content cannot be written (missing locally and on the remote, a stub that is
   * malformed or names other content, damaged content no remote repairs): leave its stub in the
   * work tree with a warning, or fail (git then stops the checkout: `git.missingIsError`).
   */
  missing: 'warn' | 'error'
  /**
   * Fetches the given file ids from the default remote, and good copies of damaged objects they
   * use; resolves with the ids still missing and how many damaged objects were replaced.
   */
  fetch(ids: string[]): Promise<{ missing: string[]; repaired: number }>
  warn(message: string): void
  /** Ctrl-C: files not yet written are left as stubs (consistent; `mlvc pull` completes them). */
  signal?: AbortSignal | undefined
  /** @default git processes run in the work tree */
  git?: FilterGit | undefined
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

/** True when git's object database holds a blob with exactly these bytes. */
async function knownToGit(workTree: string, data: Uint8Array): Promise<boolean> {
  const hashed = await runGit(['hash-object', '--stdin'], { cwd: workTree, input: data })
  if (hashed.code !== 0) return false
  const oid = hashed.stdout.toString().trim()
  return (await runGit(['cat-file', '-e', oid], { cwd: workTree })).code === 0
}

/** The FilterGit of a work tree: each call runs git there. */
function workTreeGit(workTree: string): FilterGit {
  return {
    hasBlob: (data) => knownToGit(workTree, data),
    recheck: (paths) => recheckInIndex(workTree, paths),
  }
}

/** The file id a cached stub names, if it still parses. */
function previousId(stub: string, path: string): string | undefined {
  try {
    return parseStub(Buffer.from(stub), path)?.id
  } catch {
    return undefined
  }
}

/** The file changed between git's read and ours: what git stores would not match the stub. */
function changedWhileAdded(path: string): MlvcError {
  return new MlvcError('IO', `${path} changed while git was adding it`, {
    hint: 'run git add again',
    path,
  })
}

/** A stub being smudged, with its bytes as git gave them (a stub left in place keeps them). */
interface Smudging {
  stub: Stub
  text: Uint8Array
}

/** The clean and smudge operations behind `mlvc filter-process`. */
export function createFilterHandlers(ctx: FilterContext): FilterHandlers {
  const { store, statCache } = ctx
  const git = ctx.git ?? workTreeGit(ctx.workTree)
  const deferred: Array<{ path: string; stub: Stub }> = []
  const delayed = new Map<string, Smudging>()
  const ready = new Set<string>()
  const available = new Map<string, boolean>()
  /** Stubs left in the work tree as they are (their content could not be written), by path. */
  const left = new Map<string, string>()

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

  /**
   * A stub cleans to itself when it is usable and agrees with the content it names. One that is
   * not (malformed, from a newer mlvc, or naming other content) is refused, unless git has those
   * very bytes already: a stub checked out as it is (left in place with a warning) must clean to
   * itself, because git re-cleans files it has just written and `git status` must not fail.
   */
  async function cleanStub(path: string, head: Buffer): Promise<string> {
    const text = head.toString('utf8')
    if (left.get(path) === text) return text
    try {
      const stub = parseStub(head, path) as Stub
      if (await store.has(stub.id)) await checkStubContent(store, stub, path)
      return formatStub(stub)
    } catch (err) {
      if (isMlvcError(err, 'BAD_STUB') && (await git.hasBlob(head))) return text
      throw err
    }
  }

  async function cleanChanged(
    path: string,
    source: ByteSource,
    identity: FileIdentity | undefined,
  ): Promise<string> {
    const head = await readHead(source)
    if (head.length <= MAX_STUB_BYTES && looksLikeStub(head)) {
      // Already a stub (a stub checked out without its data, or merge.renormalize): clean is
      // idempotent, but only for a stub that tells the truth about the content it names.
      return cleanStub(path, head)
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
      const stored = await store_(path, undefined, previous, identity)
      if (stored.stub.sha256 !== sha256) throw changedWhileAdded(path)
      return stored.text
    }
    return (await store_(path, prefixedSource(Buffer.from(head), source), previous, identity)).text
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
  ): Promise<{ stub: Stub; text: string }> {
    const abs = join(ctx.workTree, path)
    if (!identity && source) {
      // Bytes with no file behind them (git hash-object --stdin --path, a path being deleted):
      // there is no layout to read, so they are stored as a plain file.
      const blob = await ingestSource(store, source, { path })
      await store.commit()
      const stub = { size: blob.size, sha256: blob.sha256, id: blob.id }
      return { stub, text: formatStub(stub) }
    }
    const result = await ingestCheckpoint(store, abs, source, { previous, displayPath: path })
    const after = await fileIdentity(abs)
    if (identity && after && !sameIdentity(identity, after)) throw changedWhileAdded(path)
    await store.commit()
    const extra = result.meta
      ? checkpointStubLines(result.meta)
      : result.note
        ? [`note: stored as a plain file: ${result.note}`]
        : []
    const stub: Stub = {
      size: result.size,
      sha256: result.sha256,
      id: result.id,
      ...(extra.length > 0 ? { extra } : {}),
    }
    const text = formatStub(stub)
    remember(path, identity, result.sha256, result.size, text)
    return { stub, text }
  }

  /** Leaves a stub in the work tree as it is, with one warning; or fails (git.missingIsError). */
  function leaveStub(path: string, text: Uint8Array, err: MlvcError, why: string): Uint8Array {
    if (ctx.missing === 'error') throw err
    left.set(path, Buffer.from(text).toString('utf8'))
    ctx.warn(`mlvc: ${naming(err, path)}; ${why}`)
    return text
  }

  function missingContent(path: string, { stub, text }: Smudging): Uint8Array {
    const err = fileError(
      'MISSING_OBJECT',
      path,
      `its content (${stub.id}) is not in the local store and could not be fetched`,
      { hint: 'run mlvc pull once a remote is reachable' },
    )
    return leaveStub(path, text, err, 'left as a stub. Run `mlvc pull` when a remote is reachable.')
  }

  /**
   * Runs a read of a file's content; when it finds damaged objects (recorded by the store as it
   * reads), fetches good copies from the remote and runs it once more.
   */
  async function repairing<T>(id: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read()
    } catch (err) {
      if (!isMlvcError(err, 'CORRUPT')) throw err
      const { repaired } = await ctx.fetch([id])
      if (repaired === 0) throw err
      return read()
    }
  }

  /** The content to give git for a stub, or 'delayed'; throws when it cannot be produced. */
  async function content(
    path: string,
    smudging: Smudging,
    canDelay: boolean,
  ): Promise<Uint8Array | 'delayed'> {
    const { stub } = smudging
    if (!(await repairing(stub.id, () => isAvailable(stub.id)))) {
      if (canDelay) {
        delayed.set(path, smudging)
        return 'delayed'
      }
      const { missing } = await ctx.fetch([stub.id])
      available.delete(stub.id)
      if (missing.length > 0 || !(await isAvailable(stub.id))) return missingContent(path, smudging)
    }
    await repairing(stub.id, () => checkStubContent(store, stub, path))
    if (stub.size > ctx.inlineSmudgeLimit) {
      deferred.push({ path, stub })
      return Buffer.from(formatStub(stub))
    }
    const bytes = await repairing(stub.id, () =>
      readBlob(store, stub.id, { deltas: tensorDeltas() }),
    )
    // Written out by a merge, but small enough to come from the store: nobody will move it.
    dropReady(store, stub.id)
    return bytes
  }

  /** `content`, or the stub left as it is when the stub is unusable or the content damaged. */
  async function produce(
    path: string,
    smudging: Smudging,
    canDelay: boolean,
  ): Promise<Uint8Array | 'delayed'> {
    try {
      return await content(path, smudging, canDelay)
    } catch (err) {
      const { text } = smudging
      if (isMlvcError(err, 'BAD_STUB')) {
        const why = 'left as it is in the work tree (mlvc fsck lists every such stub)'
        return leaveStub(path, text, err, why)
      }
      if (isMlvcError(err, 'CORRUPT')) {
        const why = 'left as a stub. Run `mlvc fsck --repair`, then `mlvc pull`.'
        return leaveStub(path, text, err, why)
      }
      throw err
    }
  }

  return {
    async clean(path, content) {
      const identity = await fileIdentity(join(ctx.workTree, path))
      const cached = statCache.get(path)
      const source = iterableSource(content)
      if (cached && !cached.racy && identity && sameIdentity(cached, identity)) {
        // Git's bytes are the file's, whose stub is cached, unless git cleans other content under
        // this path (merge.renormalize, hash-object --stdin --path): a stub is then cleaned as a
        // stub. The file itself is not one (the cache holds only files stored or written whole).
        const head = await readHead(source)
        if (head.length <= MAX_STUB_BYTES && looksLikeStub(head))
          return Buffer.from(await cleanStub(path, head))
        const size = head.length + (await drainCount(source))
        if (size === cached.size) return Buffer.from(cached.stub)
        throw fileError('IO', path, `git sent ${size} bytes but the file has ${cached.size}`, {
          hint: 'run git add again',
        })
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
      const reading = readStub(head, path)
      if (reading && 'problem' in reading) {
        const err = stubProblemError(reading.problem)
        return leaveStub(
          path,
          head,
          err,
          'left as it is in the work tree (mlvc fsck lists every such stub)',
        )
      }
      return produce(path, { stub: (reading as { stub: Stub }).stub, text: head }, canDelay)
    },
    async availableBlobs() {
      const pending = [...delayed.keys()].filter((p) => !ready.has(p))
      if (pending.length === 0) return []
      const ids = [...new Set(pending.map((p) => (delayed.get(p) as Smudging).stub.id))]
      await ctx.fetch(ids)
      for (const id of ids) available.delete(id)
      for (const p of pending) ready.add(p)
      return pending
    },
    report(path, err) {
      ctx.warn(`mlvc: ${naming(err, path)}`)
    },
    async finish() {
      const written: string[] = []
      const writer = { workTree: ctx.workTree, gitDir: ctx.gitDir, store, statCache }
      const interrupted = (i: number) => {
        const rest = deferred.slice(i).map((d) => d.path)
        ctx.warn(
          `mlvc: interrupted; left as stubs: ${rest.join(', ')}. Run \`mlvc pull\` to finish.`,
        )
      }
      for (const [i, { path, stub }] of deferred.entries()) {
        if (ctx.signal?.aborted) {
          interrupted(i)
          break
        }
        try {
          const write = () => writeContentOverStub(writer, path, stub, { signal: ctx.signal })
          if (await repairing(stub.id, write)) written.push(path)
        } catch (err) {
          if (isMlvcError(err, 'INTERRUPTED')) {
            interrupted(i)
            break
          }
          const reason = isMlvcError(err) && err.path === path ? err.detail : undefined
          const next = isMlvcError(err, 'CORRUPT')
            ? 'run `mlvc fsck --repair`, then `mlvc pull`'
            : 'run `mlvc pull`'
          const why = reason ?? (err instanceof Error ? err.message : String(err))
          ctx.warn(`mlvc: ${path}: could not write its content: ${why}; ${next}`)
        }
      }
      await statCache.save()
      try {
        await git.recheck(written)
      } catch (err) {
        const paths = written.join(', ')
        ctx.warn(
          `mlvc: ${(err as Error).message}; git status may list ${paths} as modified until git add`,
        )
      }
    },
  }
}
