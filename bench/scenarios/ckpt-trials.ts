import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { placeFile, removeTree } from '../fsutil.ts'
import { CKPT, checkCheckpointStub, commitCheckpoint, initCkptRepo } from '../git/ckpt.ts'
import { checkContent, type Expected, filesUnder, warmFiles } from '../git/content.ts'
import { diffProblems, type ExpectedChange } from '../git/diff-check.ts'
import { addCommand, indexedSize } from '../git/repos.ts'
import type { Sandbox } from '../git/sandbox.ts'
import type { Trial } from '../measure.ts'
import { exec } from '../proc.ts'
import { POINTER_LIMIT } from './git-add.ts'

/** The local store of an mlvc repository, to read into the page cache before the clock. */
export function storeFiles(dir: string): Promise<string[]> {
  return filesUnder(join(dir, '.git', 'mlvc'))
}

async function checkClean(sb: Sandbox, dir: string, what: string): Promise<void> {
  const status = await exec(sb.git(dir, ['status', '--porcelain']))
  if (status.trim() !== '') throw new Error(`${what}: git status lists ${status.trim()}`)
}

export interface AddCase {
  label: string
  /** The file added, under `name` in the work tree. */
  file: string
  name: string
  /** A checkpoint's tensor count (its stub is checked); undefined for a generic file. */
  tensors: number | undefined
  /** A version committed first, so that the timed add stores a second version. */
  previous?: string
}

/**
 * A fresh repository tracking *.safetensors and *.bin (with `previous` committed), the file in
 * its work tree; times `git add`, then checks what Git stored: a stub with every tensor for a
 * checkpoint, a pointer-sized stub otherwise.
 */
export async function addTrial(ctx: BenchContext, sb: Sandbox, c: AddCase): Promise<Trial> {
  const dir = await ctx.work.tempDir(`add-${sb.tool}`)
  await initCkptRepo(sb, dir, ['*.bin'])
  if (c.previous) {
    await commitCheckpoint(sb, dir, c.previous)
    warmFiles(await storeFiles(dir))
  }
  const placed = join(dir, c.name)
  await placeFile(c.file, placed, 'link')
  const cleanup = async () => {
    try {
      if (c.tensors !== undefined) {
        await checkCheckpointStub(sb, dir, { rev: ':', tensors: c.tensors, what: c.label })
      } else if ((await indexedSize(sb, dir, c.name)) > POINTER_LIMIT) {
        throw new Error(`${c.label}: Git stored the file, not a stub`)
      }
    } finally {
      await removeTree(dir)
    }
  }
  return { command: addCommand(sb, dir, [c.name]), warm: [placed], cleanup }
}

/**
 * A fresh repository whose main holds the checkpoint and whose branch `empty` does not, left on
 * `empty` with the store in the page cache; times `git checkout main`, then checks the file's
 * bytes and that `git status` lists nothing.
 */
export async function checkoutTrial(
  ctx: BenchContext,
  sb: Sandbox,
  input: { file: string; expected: Expected; label: string },
): Promise<Trial> {
  const dir = await ctx.work.tempDir(`checkout-${sb.tool}`)
  await initCkptRepo(sb, dir)
  await exec(sb.git(dir, ['branch', 'empty']))
  await commitCheckpoint(sb, dir, input.file)
  await exec(sb.git(dir, ['checkout', '-q', 'empty']))
  warmFiles(await storeFiles(dir))
  const cleanup = async () => {
    try {
      await checkContent(join(dir, CKPT), input.expected, input.label)
      await checkClean(sb, dir, input.label)
    } finally {
      await removeTree(dir)
    }
  }
  return { command: sb.git(dir, ['checkout', '-q', 'main']), cleanup }
}

/** Throws unless `mlvc --json diff` reported exactly the expected changes. */
export function checkDiffOutput(
  stdout: string,
  expected: readonly ExpectedChange[],
  options: { data: boolean; what: string },
): void {
  const problems = diffProblems(stdout, CKPT, expected, options.data)
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''
    throw new Error(`${options.what}: mlvc diff: ${problems.slice(0, 3).join('; ')}${more}`)
  }
}

/** `mlvc --json diff [--no-data] HEAD~1 HEAD` in `dir`. */
export function diffCommand(sb: Sandbox, dir: string, noData: boolean) {
  return sb.mlvc(dir, ['--json', 'diff', ...(noData ? ['--no-data'] : []), 'HEAD~1', 'HEAD'])
}

/**
 * A fresh repository with two versions committed (their data in the local store, in the page
 * cache); times `mlvc diff HEAD~1 HEAD` with the data and checks its figures.
 */
export async function diffTrial(
  ctx: BenchContext,
  sb: Sandbox,
  input: { a: string; b: string; expected: readonly ExpectedChange[]; label: string },
): Promise<Trial> {
  const dir = await ctx.work.tempDir(`diff-${sb.tool}`)
  await initCkptRepo(sb, dir)
  await commitCheckpoint(sb, dir, input.a)
  await commitCheckpoint(sb, dir, input.b)
  warmFiles(await storeFiles(dir))
  return {
    command: diffCommand(sb, dir, false),
    check: (stdout) => checkDiffOutput(stdout, input.expected, { data: true, what: input.label }),
    cleanup: () => removeTree(dir),
  }
}
