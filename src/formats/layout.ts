import type { DType } from './dtype.ts'
import type { QuantType } from './ggml.ts'

export type CheckpointFormat = 'safetensors' | 'pytorch' | 'onnx' | 'gguf' | 'npy' | 'npz'

export type ByteOrder = 'little' | 'big'

/**
 * A JSON value: what metadata holds. Object keys are inserted in sorted order, so the key order
 * (and JSON.stringify's output) depends only on the content.
 */
export type MetadataValue =
  | null
  | boolean
  | number
  | string
  | MetadataValue[]
  | { [key: string]: MetadataValue }

/**
 * How the bytes of a tensor's range hold its elements (after inflating, for a compressed range).
 *
 * - `dense`: elements back to back, row-major (`C`) or column-major (`F`).
 * - `strided`: a PyTorch view into a storage; the range is the whole storage and element
 *   `[i0, i1, …]` sits at element `storageOffset + Σ ik·strides[k]` of it. `contiguous` when the
 *   view's elements are one C-ordered run.
 * - `varint`: ONNX typed fields (`int32_data`, `int64_data`, `uint64_data`): one protobuf varint
 *   per element; the element is the low bits of the varint.
 * - `blocks`: GGUF quantized blocks, kept exact: each `blockBytes` bytes hold `blockElements`
 *   elements along the innermost dimension.
 */
export type TensorEncoding =
  | { kind: 'dense'; byteOrder: ByteOrder; order: 'C' | 'F' }
  | {
      kind: 'strided'
      byteOrder: ByteOrder
      storageOffset: number
      strides: number[]
      contiguous: boolean
    }
  | { kind: 'varint' }
  | { kind: 'blocks'; blockElements: number; blockBytes: number }

/**
 * A DEFLATED npz member: its bytes cannot be read in place. Inflate the range (raw deflate) to
 * `size` bytes; the tensor's elements start `offset` bytes into them (after the .npy header).
 * `readTensor` does this.
 */
export interface Compression {
  method: 'deflate'
  size: number
  offset: number
}

export interface TensorLayout {
  /** Unique in the file; nested containers are flattened with '.'. */
  name: string
  /** Element type, or a GGUF quantized block type. */
  dtype: DType | QuantType
  /** Outermost dimension first (numpy order, also for GGUF, which stores dims innermost first). */
  shape: number[]
  /** The file bytes [start, end) this tensor reads. Tied PyTorch tensors share one range. */
  start: number
  end: number
  encoding: TensorEncoding
  compression?: Compression
  /**
   * ONNX external data: the range is in this file, relative to the model file's folder, not in
   * the model file itself (so the tensor is in no segment).
   */
  file?: string
  /** Length of the decoded bytes `readTensor` yields: elements × item size, or blocks × block bytes. */
  nbytes: number
}

/** Bytes of the file that hold tensor data, and the tensors whose data they are. */
export interface Segment {
  start: number
  end: number
  /** In layout order. */
  tensors: string[]
}

export interface CheckpointLayout {
  format: CheckpointFormat
  /** File size in bytes. */
  size: number
  /**
   * Non-tensor content: safetensors `__metadata__`, GGUF key-values (long arrays summarized),
   * PyTorch non-tensor values by flattened name, ONNX model fields, npy/npz nothing. Keys are
   * inserted in sorted order.
   */
  metadata: Record<string, MetadataValue>
  /** In the order the format lists them (header, pickle, initializer or member order). */
  tensors: TensorLayout[]
  /**
   * Sorted, disjoint, non-empty ranges; together with the gaps between them they cover
   * [0, size). Storing each segment on its own makes an unchanged tensor yield the same chunks.
   */
  segments: Segment[]
}
