export { DTYPES, type DType, dtypeSize, isDType, isFloat } from './dtype.ts'
export { isQuantType, type QuantType } from './ggml.ts'
export type {
  ByteOrder,
  CheckpointFormat,
  CheckpointLayout,
  Compression,
  MetadataValue,
  Segment,
  TensorEncoding,
  TensorLayout,
} from './layout.ts'
export { readOnnxExternalFiles } from './onnx.ts'
export { detectFormat, type ReadLayoutOptions, readLayout } from './read-layout.ts'
export { type ReadTensorOptions, readTensor, readTensorFrom } from './read-tensor.ts'
export {
  isShardIndexPath,
  parseShardIndex,
  readShardIndex,
  type ShardIndex,
} from './safetensors-index.ts'
export { type ByteSource as RandomSource, bufferSource as bytesRandomSource } from './source.ts'
export { itemSize } from './tensor-info.ts'
export { openTensorReader, type TensorReader } from './tensor-reader.ts'
export { type WriteOptions, writeWithTensors } from './write.ts'
export type { TensorBytes } from './write-io.ts'
