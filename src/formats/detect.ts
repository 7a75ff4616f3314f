import { isMlvcError } from '../core/index.ts'
import { badFormat } from './bad-format.ts'
import { hasGgufMagic, readGgufLayout } from './gguf.ts'
import type { CheckpointFormat, CheckpointLayout } from './layout.ts'
import { hasNpyMagic } from './npy.ts'
import { isNpz, readNpyLayout, readNpzLayout } from './npz.ts'
import { readOnnxLayout, sniffOnnx } from './onnx.ts'
import { readSafetensorsLayout, sniffSafetensors } from './safetensors.ts'
import type { ByteSource } from './source.ts'
import {
  isLegacyTorch,
  isTorchScript,
  legacyTorchError,
  readTorchLayout,
  torchPickleEntry,
} from './torch.ts'
import { hasZipMagic, readZipDirectory, type ZipDirectory } from './zip.ts'

/** What the first bytes say, before any format-specific parsing. */
type Sniffed = 'safetensors' | 'gguf' | 'npy' | 'zip' | 'onnx' | 'pytorch-legacy' | undefined

async function sniff(src: ByteSource): Promise<Sniffed> {
  const head = await src.read(0, Math.min(src.size, 16))
  if (hasNpyMagic(head)) return 'npy'
  if (hasGgufMagic(head)) return 'gguf'
  if (hasZipMagic(head)) return 'zip'
  if (isLegacyTorch(head)) return 'pytorch-legacy'
  if (sniffSafetensors(head)) return 'safetensors'
  if (await sniffOnnx(src)) return 'onnx'
  return undefined
}

function zipFormat(dir: ZipDirectory): CheckpointFormat | undefined {
  const pkl = torchPickleEntry(dir)
  if (pkl) return isTorchScript(dir, pkl.name.slice(0, -'/data.pkl'.length)) ? undefined : 'pytorch'
  return isNpz(dir) ? 'npz' : undefined
}

export async function detectFormatOf(
  src: ByteSource,
  maxHeaderBytes: number,
): Promise<CheckpointFormat | undefined> {
  const kind = await sniff(src)
  if (kind === 'pytorch-legacy') return undefined
  if (kind !== 'zip') return kind
  try {
    return zipFormat(await readZipDirectory(src, maxHeaderBytes))
  } catch (err) {
    if (isMlvcError(err, 'BAD_FORMAT')) return undefined
    throw err
  }
}

export async function layoutOf(
  src: ByteSource,
  options: { maxHeaderBytes: number; checkCrc: boolean },
): Promise<CheckpointLayout> {
  const { maxHeaderBytes } = options
  const kind = await sniff(src)
  switch (kind) {
    case 'safetensors':
      return readSafetensorsLayout(src)
    case 'gguf':
      return readGgufLayout(src)
    case 'npy':
      return readNpyLayout(src)
    case 'onnx':
      return readOnnxLayout(src)
    case 'pytorch-legacy':
      throw legacyTorchError(src.path)
    case 'zip': {
      const dir = await readZipDirectory(src, maxHeaderBytes)
      if (torchPickleEntry(dir)) return readTorchLayout(src, dir, options)
      if (isNpz(dir)) return readNpzLayout(src, dir, options)
      throw badFormat(src.path, 'a zip archive that is neither a PyTorch checkpoint nor an .npz')
    }
    case undefined:
      throw badFormat(
        src.path,
        'not a checkpoint format mlvc reads (safetensors, PyTorch zip, ONNX, GGUF, .npy, .npz)',
      )
  }
}
