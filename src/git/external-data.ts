import { readdir } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { shellQuote } from '../core/index.ts'
import { readOnnxExternalFiles } from '../formats/index.ts'

/**
 * When `path` (work-tree relative) is the external data of ONNX models in the work tree: those
 * models and every external file they use, `path` included, sorted; else an empty list. ONNX
 * locations never contain '..', so the models are in `path`'s folder or one above it.
 */
export async function externalDataGroup(workTree: string, path: string): Promise<string[]> {
  const group = new Set<string>()
  let dir = posix.dirname(path)
  for (;;) {
    let names: string[] = []
    try {
      names = await readdir(join(workTree, dir))
    } catch {}
    for (const name of names.filter((n) => n.endsWith('.onnx'))) {
      const model = posix.join(dir, name)
      const files = await readOnnxExternalFiles(join(workTree, model)).catch(() => [])
      const paths = files.map((f) => posix.join(dir, f))
      if (!paths.includes(path)) continue
      group.add(model)
      for (const p of paths) group.add(p)
    }
    if (dir === '.') break
    dir = posix.dirname(dir)
  }
  return [...group].sort()
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
