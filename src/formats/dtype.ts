/**
 * Element types of tensors as stored in files, named as safetensors names them. GGUF's quantized
 * block types are not element types; they are described by `QuantType` in the GGUF codec.
 */
export type DType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL'

export const DTYPES: readonly DType[] = [
  'F64',
  'F32',
  'F16',
  'BF16',
  'F8_E4M3',
  'F8_E5M2',
  'I64',
  'I32',
  'I16',
  'I8',
  'U64',
  'U32',
  'U16',
  'U8',
  'BOOL',
]

export function isDType(value: string): value is DType {
  return (DTYPES as readonly string[]).includes(value)
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  switch (dtype) {
    case 'F64':
    case 'I64':
    case 'U64':
      return 8
    case 'F32':
    case 'I32':
    case 'U32':
      return 4
    case 'F16':
    case 'BF16':
    case 'I16':
    case 'U16':
      return 2
    case 'F8_E4M3':
    case 'F8_E5M2':
    case 'I8':
    case 'U8':
    case 'BOOL':
      return 1
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype.startsWith('F') || dtype === 'BF16'
}
