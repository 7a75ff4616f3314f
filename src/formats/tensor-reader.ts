import { closeSync } from 'node:fs'
import { openForReading } from '../core/index.ts'
import type { TensorLayout } from './layout.ts'
import { type ReadTensorOptions, readTensor, readTensorFrom } from './read-tensor.ts'
import { windowedSource } from './source.ts'

/**
 * Many tensors of one file, read through one descriptor. A checkpoint may hold 200,000 tensors of a
 * few bytes each: opening, stat-ing and reading the file once per tensor would cost far more than
 * their data, so small reads are served from a window read ahead (windowedSource).
 */
export interface TensorReader {
  /** As readTensor(path, tensor); ONNX external data is read from its own file. */
  read(tensor: TensorLayout, options?: ReadTensorOptions): AsyncIterable<Uint8Array>
  close(): void
}

/** Opens `path` for reading many of its tensors (see TensorReader). */
export function openTensorReader(path: string): TensorReader {
  const { fd, size } = openForReading(path)
  const source = windowedSource(path, fd, size)
  return {
    read: (tensor, options) =>
      tensor.file === undefined
        ? readTensorFrom(source, tensor, options)
        : readTensor(path, tensor, options),
    close: () => closeSync(fd),
  }
}
