import { existsSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { MlvcError, pushAll } from '../../core/index.ts'
import { diffFiles, runGit } from '../../git/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { renderReports, terminalColors } from './diff-render.ts'

export interface DiffCommandOptions {
  /** Read tensor data where it is local (exact figures). False (--no-data): the stubs alone, no store. */
  data: boolean
}

/** Operands after a `--` on the command line: commander passes them on without the marker. */
function afterDoubleDash(argv: readonly string[]): string[] {
  const at = argv.indexOf('--')
  return at < 0 ? [] : argv.slice(at + 1)
}

async function isCommit(ctx: GitContext, rev: string): Promise<boolean> {
  const result = await runGit(['rev-parse', '--verify', '-q', `${rev}^{commit}`], {
    cwd: ctx.workTree,
  })
  return result.code === 0
}

/** `A..B` (either end defaulting to HEAD) as two revisions, as git diff reads it. */
async function revisionRange(ctx: GitContext, arg: string): Promise<string[]> {
  const [, from, to] = /^(.*?)\.\.(?!\.)(.*)$/.exec(arg) ?? []
  const ends: [string, string] | undefined =
    from === undefined ? undefined : [from || 'HEAD', to || 'HEAD']
  if (!ends || !(await isCommit(ctx, ends[0])) || !(await isCommit(ctx, ends[1]))) {
    throw new MlvcError('USAGE', `${arg}: not a revision, nor a path in the work tree`, {
      hint: 'put paths after -- : mlvc diff [REV_A [REV_B]] -- PATH…',
    })
  }
  return ends
}

/** Splits `A..B`, checks the revisions, and takes operands that are paths as pathspecs. */
async function parseOperands(ctx: GitContext, args: readonly string[], paths: readonly string[]) {
  const revs: string[] = []
  const specs = [...paths]
  for (const arg of args) {
    if (await isCommit(ctx, arg)) revs.push(arg)
    else if (existsSync(resolve(ctx.cwd, arg))) specs.push(arg)
    else pushAll(revs, await revisionRange(ctx, arg))
  }
  if (revs.length > 2) {
    throw new MlvcError('USAGE', `at most two revisions, not ${revs.length}`, {
      hint: 'mlvc diff compares the index, a revision or two revisions with each other',
    })
  }
  const toRepo = (p: string) => relative(ctx.workTree, resolve(ctx.cwd, p)).split(sep).join('/')
  return { revs, specs: specs.map(toRepo) }
}

/**
 * `mlvc diff [REV_A [REV_B]] [-- PATH…]`: what changed in files stored by mlvc, tensor by tensor
 * for checkpoints. With `data`, tensors whose data is local on both sides are compared exactly;
 * without, everything comes from the stubs in git (no store, no data).
 */
export async function diff(
  io: Io,
  [operands]: [readonly string[]],
  options: DiffCommandOptions,
): Promise<CommandResult> {
  const paths = afterDoubleDash(process.argv)
  const args = operands.slice(0, operands.length - paths.length)
  const ctx = requireGit(await repoContext(io.cwd))
  const { revs, specs } = await parseOperands(ctx, args, paths)
  const selection = { revs, paths: specs, data: options.data }
  const { files, summary } = await withSession(ctx, io, (session) => diffFiles(session, selection))
  return {
    data: { revisions: revs, files, summary },
    text: renderReports(files, terminalColors()),
  }
}
