import { readdir } from 'node:fs/promises'
import { join, posix } from 'node:path'
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
