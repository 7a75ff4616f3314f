import { existsSync } from 'node:fs'
import { mkdir, rename } from 'node:fs/promises'
import { removeTree } from '../fsutil.ts'

/**
 * Returns the folder `path`, filling it first if it does not exist. The writer fills a temporary
 * folder (`<path>.tmp-<pid>`, which the workspace removes if this process dies) that is renamed
 * into place only when complete, so a later run never trusts half a folder.
 */
export async function cachedDir(
  path: string,
  fill: (tmp: string) => Promise<void>,
): Promise<string> {
  if (existsSync(path)) return path
  const tmp = `${path}.tmp-${process.pid}`
  await removeTree(tmp)
  await mkdir(tmp, { recursive: true })
  try {
    await fill(tmp)
    await rename(tmp, path)
  } finally {
    await removeTree(tmp)
  }
  return path
}
