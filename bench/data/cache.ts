import { existsSync } from 'node:fs'
import { rename, rm } from 'node:fs/promises'

/**
 * Returns `path`, writing it first if it does not exist. The writer fills a temporary name that
 * is renamed into place only when complete, so an interrupted run never leaves a short input
 * that a later run would trust.
 */
export async function cachedFile(
  path: string,
  write: (tmpPath: string) => Promise<void>,
): Promise<string> {
  if (existsSync(path)) return path
  const tmp = `${path}.tmp-${process.pid}`
  try {
    await write(tmp)
    await rename(tmp, path)
  } finally {
    await rm(tmp, { force: true })
  }
  return path
}
