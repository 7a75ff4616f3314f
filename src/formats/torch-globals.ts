import { badFormat } from './bad-format.ts'
import type { DType } from './dtype.ts'
import { own } from './metadata.ts'
import type { UnpickleHooks } from './pickle.ts'
import { dictSet, type PyValue, pyDict } from './pickle-values.ts'
import {
  OTHER_STORAGES,
  PLAIN_GLOBALS,
  STORAGE_DTYPES,
  TORCH_DTYPES,
  UNSUPPORTED,
} from './torch-types.ts'

/** A storage record of a torch zip: the bytes of `<prefix>/data/<key>`. */
export interface TorchStorage {
  key: string
  /** Element type of a typed storage; undefined for an UntypedStorage (numel counts bytes). */
  dtype: DType | undefined
  numel: number
  location: string
}

export interface TorchTensor {
  storage: TorchStorage
  dtype: DType
  offset: number
  shape: number[]
  strides: number[]
}

function isStorageClass(module: string, name: string): boolean {
  if (module !== 'torch' && module !== 'torch.cuda') {
    return module === 'torch.storage' && (name === 'UntypedStorage' || name === 'TypedStorage')
  }
  return own(STORAGE_DTYPES, name) !== undefined || OTHER_STORAGES.includes(name)
}

/** True if torch.load(weights_only=True) would accept `module.name` and so do we. */
export function isAllowedGlobal(module: string, name: string): boolean {
  const full = `${module}.${name}`
  return (
    PLAIN_GLOBALS.has(full) ||
    isStorageClass(module, name) ||
    (module === 'torch' && Object.hasOwn(TORCH_DTYPES, name))
  )
}

function isGlobal(v: PyValue, full: string): boolean {
  return (
    v !== null && typeof v === 'object' && v.type === 'global' && `${v.module}.${v.name}` === full
  )
}

function items(v: PyValue | undefined): PyValue[] | undefined {
  return v !== null &&
    typeof v === 'object' &&
    v !== undefined &&
    (v.type === 'tuple' || v.type === 'list')
    ? v.items
    : undefined
}

export function tensorOf(v: PyValue | undefined): TorchTensor | undefined {
  return v !== null &&
    typeof v === 'object' &&
    v !== undefined &&
    v.type === 'object' &&
    v.cls === 'torch.Tensor'
    ? (v.data as TorchTensor)
    : undefined
}

export function storageOf(v: PyValue | undefined): TorchStorage | undefined {
  return v !== null &&
    typeof v === 'object' &&
    v !== undefined &&
    v.type === 'object' &&
    v.cls === 'torch.storage'
    ? (v.data as TorchStorage)
    : undefined
}

/**
 * The hooks that make the pickle machine a torch `weights_only` loader: globals outside the
 * allow-list are refused by name; allowed ones build inert descriptions (no tensor data is read).
 */
export function torchHooks(file: string, what: string): UnpickleHooks {
  const storages = new Map<string, TorchStorage>()
  // Typed where it is declared, so that a call narrows what follows it.
  const fail: (why: string) => never = (why) => {
    throw badFormat(file, `${what}: ${why}`)
  }
  const isSize = (d: PyValue): d is number =>
    typeof d === 'number' && Number.isSafeInteger(d) && d >= 0
  const ints = (v: PyValue | undefined, name: string): number[] => {
    const list = items(v)
    if (!list?.every(isSize)) return fail(`a tensor's ${name} is not a tuple of sizes`)
    return list
  }

  const rebuild = (args: PyValue[], dtypeArg: PyValue | undefined): PyValue => {
    const [storageValue, offset, size, stride] = args
    const storage =
      storageOf(storageValue) ?? fail('a tensor is rebuilt from something that is not a storage')
    let dtype = storage.dtype
    if (dtypeArg !== undefined) {
      if (dtypeArg === null || typeof dtypeArg !== 'object' || dtypeArg.type !== 'global')
        fail('bad tensor dtype')
      dtype =
        own(TORCH_DTYPES, dtypeArg.name) ??
        fail(`a tensor has dtype torch.${dtypeArg.name}, which mlvc does not read`)
    }
    if (dtype === undefined) return fail('a tensor over an untyped storage has no dtype')
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      fail('bad storage offset')
    const tensor: TorchTensor = {
      storage,
      dtype,
      offset,
      shape: ints(size, 'size'),
      strides: ints(stride, 'stride'),
    }
    if (tensor.shape.length !== tensor.strides.length)
      fail('a tensor has as many strides as dimensions')
    return { type: 'object', cls: 'torch.Tensor', data: tensor }
  }

  const callGlobal = (full: string, args: PyValue[]): PyValue => {
    switch (full) {
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
        return rebuild(args, undefined)
      case 'torch._utils._rebuild_tensor_v3':
        return rebuild(args, args[6])
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
      case 'torch.nn.parameter.Parameter':
        return tensorOf(args[0])
          ? (args[0] as PyValue)
          : fail('a Parameter wraps something that is not a tensor')
      case 'torch._tensor._rebuild_from_type_v2': {
        const [func, type, inner] = args
        if (
          !isGlobal(type ?? null, 'torch.Tensor') &&
          !isGlobal(type ?? null, 'torch.nn.parameter.Parameter')
        ) {
          fail('tensor subclasses are not read')
        }
        return call(func ?? null, items(inner) ?? fail('bad _rebuild_from_type_v2 arguments'))
      }
      case 'collections.OrderedDict':
      case 'collections.Counter': {
        const d = pyDict()
        const init = args[0]
        if (init !== undefined && init !== null && typeof init === 'object' && init.type === 'dict')
          return init
        for (const pair of items(init) ?? []) {
          const kv = items(pair)
          if (kv?.length !== 2) fail('bad OrderedDict arguments')
          dictSet(d, [kv?.[0] as PyValue, kv?.[1] as PyValue], { file, what })
        }
        return d
      }
      case 'builtins.set':
      case 'builtins.frozenset':
        return { type: 'set', items: items(args[0]) ?? [] }
      case 'torch.Size':
        return { type: 'tuple', items: ints(args[0] ?? { type: 'tuple', items: [] }, 'Size') }
      case 'torch.device':
        return args
          .filter((a) => a !== null)
          .map(String)
          .join(':')
      case 'builtins.complex':
        return { type: 'object', cls: 'complex', data: args.map(Number) }
      case '_codecs.encode':
      case 'builtins.bytearray': {
        const [s] = args
        if (s !== null && typeof s === 'object' && s.type === 'bytes') return s
        if (typeof s === 'string') return { type: 'bytes', data: Buffer.from(s, 'latin1') }
        if (s === undefined) return { type: 'bytes', data: new Uint8Array(0) }
        return fail(`bad ${full} argument`)
      }
      default:
        return fail(`${full} cannot be called`)
    }
  }

  const call = (callable: PyValue, args: PyValue[]): PyValue => {
    if (callable === null || typeof callable !== 'object' || callable.type !== 'global') {
      return fail('a pickle calls something that is not an allowed global')
    }
    return callGlobal(`${callable.module}.${callable.name}`, args)
  }

  return {
    global: (module, name) => {
      const full = `${module}.${name}`
      const unsupported = own(UNSUPPORTED, full)
      if (unsupported)
        throw badFormat(file, `${what} uses ${full} (${unsupported}), which mlvc does not read`)
      if (!isAllowedGlobal(module, name)) {
        throw badFormat(
          file,
          `${what} refers to ${full}, which is not on the allow-list of PyTorch weights-only globals; mlvc refuses it and executes nothing`,
        )
      }
      return { type: 'global', module, name }
    },
    call,
    persistentLoad: (pid) => {
      const [tag, cls, key, location, numel] = items(pid) ?? fail('bad persistent id')
      if (tag !== 'storage') fail(`persistent id ${JSON.stringify(tag)} is not a storage`)
      if (
        cls === null ||
        typeof cls !== 'object' ||
        cls.type !== 'global' ||
        !isStorageClass(cls.module, cls.name)
      ) {
        return fail('a storage has no storage type')
      }
      if (typeof key !== 'string' || typeof location !== 'string') return fail('bad storage key')
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
        return fail('bad storage size')
      if (cls.module !== 'torch.storage' && own(STORAGE_DTYPES, cls.name) === undefined) {
        fail(`storage ${key} is a ${cls.name}, which mlvc does not read`)
      }
      const storage: TorchStorage = { key, dtype: own(STORAGE_DTYPES, cls.name), numel, location }
      const seen = storages.get(key)
      if (seen && (seen.dtype !== storage.dtype || seen.numel !== storage.numel)) {
        fail(`storage ${key} is described twice, differently`)
      }
      if (!seen) storages.set(key, storage)
      return { type: 'object', cls: 'torch.storage', data: seen ?? storage }
    },
  }
}
