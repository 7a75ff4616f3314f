import { constants } from 'node:fs'
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { isErrno } from '../core/index.ts'
import { badFormat } from './bad-format.ts'

/** ONNX resolves external locations against the model's folder; refuse any way out of it. */
export function checkLocation(path: string, name: string, location: string): void {
  const parts = location.split(/[/\\]/)
  if (
    location === '' ||
    location.startsWith('/') ||
    /^[a-zA-Z]:/.test(location) ||
    parts.includes('..') ||
    location.includes('\0')
  ) {
    throw badFormat(
      path,
      `tensor ${name}: external data location ${JSON.stringify(location)} leaves the model's folder`,
    )
  }
}

/** Where an open file is, as the kernel resolved it (Linux), else as realpath resolves it now. */
async function openedPath(handle: FileHandle, path: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`)
  } catch {
    return realpath(path)
  }
}

export interface ExternalData {
  handle: FileHandle
  size: number
  /** The file's path: the model's real folder joined with the location. */
  path: string
}

/**
 * Opens the external data file of tensor `name` of the ONNX model at `modelPath` as onnx allows
 * it: `location` relative to the model's folder (which may itself be reached through a symbolic
 * link), no symbolic link on the way below that folder, neither the file nor a folder, and a
 * regular file. The check is made on the file opened (O_NOFOLLOW, then where the descriptor
 * really leads), so a link swapped in after a check is caught too. BAD_FORMAT otherwise.
 */
export async function openExternalData(
  modelPath: string,
  name: string,
  location: string,
): Promise<ExternalData> {
  checkLocation(modelPath, name, location)
  const what = `tensor ${name}: external data file ${location}`
  let folder: string
  let path: string
  let handle: FileHandle
  try {
    folder = await realpath(dirname(modelPath))
    path = join(folder, location)
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    if (isErrno(err, 'ELOOP'))
      throw badFormat(modelPath, `${what} is a symbolic link, which onnx refuses`, err)
    throw badFormat(modelPath, `${what} cannot be read`, err)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw badFormat(modelPath, `${what} is not a regular file`)
    const real = await openedPath(handle, path)
    if (real !== path) {
      // The target is not named: notes go into stubs, which must not depend on the machine.
      const outside = !real.startsWith(folder + sep)
      throw badFormat(
        modelPath,
        `${what} is reached through a symbolic link${outside ? " that leads outside the model's folder" : ', which onnx refuses'}`,
      )
    }
    return { handle, size: info.size, path }
  } catch (err) {
    await handle.close()
    throw err
  }
}
