import type { DType } from './dtype.ts'

/** Storage classes torch pickles (torch.FloatStorage …) and the element type each holds. */
export const STORAGE_DTYPES: Record<string, DType> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
}

/** Storage types torch allows that hold no DType of ours (complex, quantized). */
export const OTHER_STORAGES = [
  'ComplexDoubleStorage',
  'ComplexFloatStorage',
  'QInt8Storage',
  'QInt32Storage',
  'QUInt8Storage',
  'QUInt4x2Storage',
  'QUInt2x4Storage',
]

export const TORCH_DTYPES: Record<string, DType | undefined> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint64: 'U64',
  uint32: 'U32',
  uint16: 'U16',
  uint8: 'U8',
  bool: 'BOOL',
  float8_e4m3fn: 'F8_E4M3',
  float8_e5m2: 'F8_E5M2',
  // Allowed by torch, read as non-tensor values, but a tensor of these is not read.
  complex128: undefined,
  complex64: undefined,
  complex32: undefined,
  float8_e4m3fnuz: undefined,
  float8_e5m2fnuz: undefined,
  float8_e8m0fnu: undefined,
  float4_e2m1fn_x2: undefined,
  qint8: undefined,
  qint32: undefined,
  quint8: undefined,
  quint4x2: undefined,
  quint2x4: undefined,
  bits1x8: undefined,
  bits2x4: undefined,
  bits4x2: undefined,
  bits8: undefined,
  bits16: undefined,
  ...Object.fromEntries(
    [1, 2, 3, 4, 5, 6, 7].flatMap((n) => [
      [`uint${n}`, undefined],
      [`int${n}`, undefined],
    ]),
  ),
}

/** Allowed by torch's weights_only unpickler, refused here because mlvc cannot lay them out. */
export const UNSUPPORTED: Record<string, string> = {
  'torch._utils._rebuild_qtensor': 'quantized tensors',
  'torch._utils._rebuild_sparse_tensor': 'sparse tensors',
  'torch._utils._rebuild_meta_tensor_no_storage': 'meta tensors',
  'torch._utils._rebuild_nested_tensor': 'nested tensors',
  'torch._utils._rebuild_wrapper_subclass': 'tensor subclasses',
  'torch._utils._rebuild_device_tensor_from_numpy': 'device tensors',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor': 'device tensors',
  'torch.serialization._get_layout': 'sparse layouts',
}

export const PLAIN_GLOBALS = new Set([
  'collections.OrderedDict',
  'collections.Counter',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.complex',
  '_codecs.encode',
  'torch.Size',
  'torch.device',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch.per_tensor_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_affine',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
])
