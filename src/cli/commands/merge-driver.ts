import { copyFile, readFile } from 'node:fs/promises'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'

/**
 * Git's merge driver for tracked files (merge.mlvc.driver = … merge-driver %O %A %B %P). Git passes
 * the stored form (stubs) of base, ours and theirs in temporary files; the result goes into %A.
 * Identical sides or a side equal to the base merge cleanly; otherwise ours is kept and the path
 * is reported as a conflict.
 */
export async function mergeDriver(
  base: string,
  ours: string,
  theirs: string,
  path: string,
  io: Io,
): Promise<CommandResult> {
  await repoContext(io.cwd)
  const [o, a, b] = await Promise.all([base, ours, theirs].map((f) => readFile(f)))
  if ((a as Buffer).equals(b as Buffer) || (o as Buffer).equals(b as Buffer))
    return { data: { path, result: 'ours' }, text: '' }
  if ((o as Buffer).equals(a as Buffer)) {
    await copyFile(theirs, ours)
    return { data: { path, result: 'theirs' }, text: '' }
  }
  io.warn(
    `mlvc: conflict in ${path}: both sides changed it; the work tree has our version.\n` +
      `  take theirs: git checkout --theirs -- '${path}' && git add '${path}'; keep ours: git add '${path}'`,
  )
  return { data: { path, result: 'conflict' }, text: '', exitCode: 1 }
}
