import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { fsError } from '../core/index.ts'
import { badFormat } from './bad-format.ts'
import type { TensorLayout } from './layout.ts'
import { type ReadTensorOptions, readTensor, readTensorFrom } from './read-tensor.ts'
import { type ByteSource, checkSourceRange } from './source.ts'

/** Reads ahead at least this much; tensors inside one window cost no system call of their own. */
const WINDOW = 1 << 20

/**
 * Many tensors of one file, read through one descriptor. A checkpoint may hold 200,000 tensors of a
 * few bytes each: opening, stat-ing and reading the file once per tensor would cost far more than
 * their data, so small reads are served from a window read ahead.
 */
export interface TensorReader {
  /** As readTensor(path, tensor); ONNX external data is read from its own file. */
  read(tensor: TensorLayout, options?: ReadTensorOptions): AsyncIterable<Uint8Array>
  close(): void
}

function readFully(path: string, fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    let n: number
    try {
      n = readSync(fd, buf, done, length - done, offset + done)
    } catch (err) {
      throw fsError(err, 'reading', path)
    }
    if (n === 0) throw badFormat(path, 'the file shrank while being read')
    done += n
  }
  return buf
}

/**
 * A source over an open file that reads a window of at least WINDOW bytes at a time. Each window is
 * a fresh buffer, so bytes handed out earlier stay valid while later reads move on.
 */
function windowSource(path: string, fd: number, size: number): ByteSource {
  let base = 0
  let data: Buffer = Buffer.alloc(0)
  return {
    path,
    size,
    read: async (offset, length) => {
      checkSourceRange(path, size, offset, length)
      if (offset >= base && offset + length <= base + data.length)
        return data.subarray(offset - base, offset - base + length)
      if (length >= WINDOW) return readFully(path, fd, offset, length)
      data = readFully(path, fd, offset, Math.min(WINDOW, size - offset))
      base = offset
      return data.subarray(0, length)
    },
  }
}

/** Opens `path` for reading many of its tensors (see TensorReader). */
export function openTensorReader(path: string): TensorReader {
  let fd: number
  let size: number
  try {
    fd = openSync(path, 'r')
    size = fstatSync(fd).size
  } catch (err) {
    throw fsError(err, 'opening', path)
  }
  const source = windowSource(path, fd, size)
  return {
    read: (tensor, options) =>
      tensor.file === undefined
        ? readTensorFrom(source, tensor, options)
        : readTensor(path, tensor, options),
    close: () => closeSync(fd),
  }
}
