import { detectFormatOf, layoutOf } from './detect.ts'
import type { CheckpointFormat, CheckpointLayout } from './layout.ts'
import { withFileSource } from './source.ts'

export interface ReadLayoutOptions {
  /**
   * Largest header, pickle, key-value block or zip directory read into memory; larger ones are
   * BAD_FORMAT. @default 100_000_000 (the safetensors library's own header limit)
   */
  maxHeaderBytes?: number
  /**
   * Read every zip member a layout rests on (PyTorch storages, npz members) to check its CRC-32.
   * Off only for files whose bytes were checked before: materialized from the store (verified by
   * their sha-256, stored after this check) or just written by mlvc. @default true
   */
  checkCrc?: boolean
}

export const DEFAULT_MAX_HEADER_BYTES = 100_000_000

/**
 * The checkpoint format of a file, from its content: the first bytes, and for a zip its
 * directory. Undefined for anything else (including legacy torch pickles and TorchScript).
 */
export async function detectFormat(
  path: string,
  options: ReadLayoutOptions = {},
): Promise<CheckpointFormat | undefined> {
  return withFileSource(path, (src) =>
    detectFormatOf(src, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES),
  )
}

/**
 * Where a checkpoint's tensors lie, without reading their data (headers, pickles and directories
 * are read at offsets; tensor bytes never). Throws MlvcError BAD_FORMAT, naming the file and what
 * is wrong, for anything it cannot or will not read: the caller stores such a file as a blob.
 */
export async function readLayout(
  path: string,
  options: ReadLayoutOptions = {},
): Promise<CheckpointLayout> {
  return withFileSource(path, (src) =>
    layoutOf(src, {
      maxHeaderBytes: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      checkCrc: options.checkCrc !== false,
    }),
  )
}
