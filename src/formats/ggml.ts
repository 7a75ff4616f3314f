import type { DType } from './dtype.ts'

/** GGUF quantized block types (ggml_type names), kept exact as blocks. */
export type QuantType =
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q8_0'
  | 'Q2_K'
  | 'Q3_K'
  | 'Q4_K'
  | 'Q5_K'
  | 'Q6_K'
  | 'Q8_K'
  | 'IQ2_XXS'
  | 'IQ2_XS'
  | 'IQ3_XXS'
  | 'IQ1_S'
  | 'IQ4_NL'
  | 'IQ3_S'
  | 'IQ2_S'
  | 'IQ4_XS'
  | 'IQ1_M'
  | 'TQ1_0'
  | 'TQ2_0'
  | 'MXFP4'
  | 'NVFP4'
  | 'Q1_0'

export interface GgmlType {
  name: DType | QuantType
  /** Elements per block (1 for plain element types). */
  blockElements: number
  blockBytes: number
}

/**
 * ggml_type id → name and block size, as gguf-py 0.19 (GGML_QUANT_SIZES) lists them. Q8_1 is left
 * out on purpose: ggml only uses it for intermediate dot products, and gguf-py's size for it (40)
 * disagrees with ggml's block_q8_1 (36), so a file claiming it is not trusted.
 */
const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(
  (
    [
      [0, 'F32', 1, 4],
      [1, 'F16', 1, 2],
      [2, 'Q4_0', 32, 18],
      [3, 'Q4_1', 32, 20],
      [6, 'Q5_0', 32, 22],
      [7, 'Q5_1', 32, 24],
      [8, 'Q8_0', 32, 34],
      [10, 'Q2_K', 256, 84],
      [11, 'Q3_K', 256, 110],
      [12, 'Q4_K', 256, 144],
      [13, 'Q5_K', 256, 176],
      [14, 'Q6_K', 256, 210],
      [15, 'Q8_K', 256, 292],
      [16, 'IQ2_XXS', 256, 66],
      [17, 'IQ2_XS', 256, 74],
      [18, 'IQ3_XXS', 256, 98],
      [19, 'IQ1_S', 256, 50],
      [20, 'IQ4_NL', 32, 18],
      [21, 'IQ3_S', 256, 110],
      [22, 'IQ2_S', 256, 82],
      [23, 'IQ4_XS', 256, 136],
      [24, 'I8', 1, 1],
      [25, 'I16', 1, 2],
      [26, 'I32', 1, 4],
      [27, 'I64', 1, 8],
      [28, 'F64', 1, 8],
      [29, 'IQ1_M', 256, 56],
      [30, 'BF16', 1, 2],
      [34, 'TQ1_0', 256, 54],
      [35, 'TQ2_0', 256, 66],
      [39, 'MXFP4', 32, 17],
      [40, 'NVFP4', 64, 36],
      [41, 'Q1_0', 128, 18],
    ] as const
  ).map(([id, name, blockElements, blockBytes]) => [id, { name, blockElements, blockBytes }]),
)

export function ggmlType(id: number): GgmlType | undefined {
  return GGML_TYPES.get(id)
}

export function ggmlTypeId(name: string): number | undefined {
  for (const [id, t] of GGML_TYPES) if (t.name === name) return id
  return undefined
}

export function isQuantType(name: string): name is QuantType {
  const id = ggmlTypeId(name)
  return id !== undefined && (GGML_TYPES.get(id)?.blockElements ?? 1) > 1
}
