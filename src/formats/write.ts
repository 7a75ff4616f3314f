import { copyFile, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fsError, fsyncDir, MlvcError, uniqueName } from '../core/index.ts'
import type { CheckpointLayout, TensorLayout } from './layout.ts'
import { rewriteZip } from './npz-write.ts'
import { parseOnnx } from './onnx.ts'
import { writeOnnx } from './onnx-write.ts'
import { DEFAULT_MAX_HEADER_BYTES, readLayout } from './read-layout.ts'
import { type ByteSource, withFileSource } from './source.ts'
import { itemSize } from './tensor-info.ts'
import { exactBlocks, type OutFile, type TensorBytes } from './write-io.ts'
import { type Replacement, writeTensorAt } from './write-tensor.ts'
import { readZipDirectory } from './zip.ts'
import { fixEntryCrc } from './zip-patch.ts'

export interface WriteOptions {
  /** Folder for temporary files (rebuilt npz members). @default os.tmpdir() */
  tmpDir?: string
  /** fsync the output before renaming it into place. @default true */
  fsync?: boolean
  /** As for readLayout. @default 100_000_000 */
  maxHeaderBytes?: number
  /** Stops the write between blocks; the partial output is removed. */
  signal?: AbortSignal
}

interface Job {
  src: ByteSource
  out: OutFile
  current: CheckpointLayout
  replacing: Replacement[]
  maxHeaderBytes: number
  tmpDir: string
}

function sameRange(a: TensorLayout, b: TensorLayout): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.nbytes === b.nbytes &&
    a.dtype === b.dtype &&
    a.shape.join() === b.shape.join()
  )
}

interface PlanInput {
  given: CheckpointLayout
  current: CheckpointLayout
  replacements: ReadonlyMap<string, TensorBytes>
  signal: AbortSignal | undefined
}

/** Matches replacements to the file's current tensors, refusing anything that does not fit. */
function plan(srcPath: string, p: PlanInput): Replacement[] {
  const usage = (what: string) => new MlvcError('USAGE', `${srcPath}${what}`)
  if (p.given.format !== p.current.format || p.given.size !== p.current.size) {
    throw new MlvcError('USAGE', `${srcPath} has changed since its layout was read`, {
      hint: 'read the layout again',
    })
  }
  const byName = new Map(p.current.tensors.map((t) => [t.name, t]))
  const out: Replacement[] = []
  for (const [name, bytes] of p.replacements) {
    const tensor = byName.get(name)
    const claimed = p.given.tensors.find((t) => t.name === name)
    if (!tensor) throw usage(` has no tensor named ${JSON.stringify(name)}`)
    if (!claimed || !sameRange(claimed, tensor))
      throw usage(`: tensor ${name} is not where the given layout says`)
    if (tensor.file !== undefined)
      throw usage(`: tensor ${name} lives in the external file ${tensor.file}; replace it there`)
    out.push({
      tensor,
      blocks: exactBlocks(bytes, {
        name,
        nbytes: tensor.nbytes,
        item: itemSize(tensor),
        signal: p.signal,
      }),
    })
  }
  // In layout order, so that of two tied tensors the later one in the file's own order wins.
  const order = new Map(p.current.tensors.map((t, i) => [t.name, i]))
  return out.sort((a, b) => (order.get(a.tensor.name) ?? 0) - (order.get(b.tensor.name) ?? 0))
}

/** Same-size formats: the output is a copy of the source, patched where tensors changed. */
async function writeInPlace(job: Job): Promise<void> {
  for (const r of job.replacing) await writeTensorAt(job.out, r.tensor.start, r)
  if (job.current.format !== 'pytorch') return
  const dir = await readZipDirectory(job.src, job.maxHeaderBytes)
  const changed = new Set(job.replacing.map((r) => r.tensor.start))
  for (const entry of dir.entries)
    if (changed.has(entry.dataStart)) await fixEntryCrc(job.out, entry)
}

/** Formats whose sizes can change (varint ONNX data, recompressed npz members): written front to back. */
async function writeRewritten(job: Job): Promise<void> {
  const { src, out } = job
  if (job.current.format === 'onnx') {
    await writeOnnx({
      src,
      chains: (await parseOnnx(src)).chains,
      replacements: job.replacing,
      out,
    })
    return
  }
  const dir = await readZipDirectory(src, job.maxHeaderBytes)
  const members = new Map(job.replacing.map((r) => [`${r.tensor.name}.npy`, r]))
  await rewriteZip({ src, dir, members, out, tmpDir: job.tmpDir })
}

/**
 * Writes a copy of `srcPath` to `outPath` in which the given tensors' bytes are replaced by new
 * ones of the same dtype and shape (decoded bytes, as readTensor yields them), fixing whatever
 * depends on them: zip CRC-32s and sizes, recompressed npz members, ONNX message lengths. The
 * output is written to a temporary file beside `outPath` and renamed into place. Returns the
 * output's layout.
 */
export async function writeWithTensors(
  srcPath: string,
  layout: CheckpointLayout,
  replacements: ReadonlyMap<string, TensorBytes>,
  outPath: string,
  options: WriteOptions = {},
): Promise<CheckpointLayout> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES
  // `layout` came from readLayout, which checked the data; this only confirms it still holds.
  const current = await readLayout(srcPath, { maxHeaderBytes, checkCrc: false })
  const replacing = plan(srcPath, { given: layout, current, replacements, signal: options.signal })
  const path = join(dirname(outPath), `.${uniqueName('mlvc-write')}`)
  const inPlace = current.format !== 'npz' && current.format !== 'onnx'
  try {
    if (inPlace)
      await copyFile(srcPath, path).catch((err: unknown) =>
        Promise.reject(fsError(err, 'copying', srcPath)),
      )
    const handle = await open(path, inPlace ? 'r+' : 'wx').catch((err: unknown) =>
      Promise.reject(fsError(err, 'creating', path)),
    )
    try {
      await withFileSource(srcPath, async (src) => {
        const job = {
          src,
          out: { handle, path },
          current,
          replacing,
          maxHeaderBytes,
          tmpDir: options.tmpDir ?? tmpdir(),
        }
        await (inPlace ? writeInPlace(job) : writeRewritten(job))
      })
      if (options.fsync !== false) await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(path, outPath).catch((err: unknown) =>
      Promise.reject(fsError(err, 'writing', outPath)),
    )
  } catch (err) {
    await rm(path, { force: true })
    throw err
  }
  if (options.fsync !== false) await fsyncDir(dirname(outPath))
  return readLayout(outPath, { maxHeaderBytes, checkCrc: false })
}
