import type { MergeConflict } from '../checkpoint/index.ts'
import { quote, shellQuote } from '../core/index.ts'

// What merges say, shared by the library's errors and the CLI's warnings.

/** One line per conflict: the tensor (or "(file)") and why. */
export function conflictLines(conflicts: readonly MergeConflict[]): string[] {
  return conflicts.map(
    (c) => `  ${c.tensor === undefined ? '(file)' : quote(c.tensor)}: ${c.message}`,
  )
}

/** Why a file of an externalDataGroup is not merged. */
export function externalDataReason(group: readonly string[]): string {
  const models = group.filter((f) => f.endsWith('.onnx')).join(', ')
  return `it holds tensors of ${models} (ONNX external data), which mlvc does not merge tensor by tensor`
}

/** For an ONNX model and its external data: only one side of all the files is consistent. */
export function keepOneSide(files: readonly string[]): string {
  const quoted = files.map(shellQuote).join(' ')
  return `keep one side of all of them: git checkout --theirs -- ${quoted} && git add ${quoted}   (or --ours)`
}
