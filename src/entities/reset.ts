import { rm } from 'node:fs/promises'
import { joinByPath } from './join.ts'
import { type EntityRef, type EntityRepo, entityPaths } from './layout.ts'
import { manifestWriter, readManifestFile } from './manifest.ts'
import { readSpec } from './spec.ts'
import { stagedFile, withEntityLock } from './state.ts'
import { under } from './walk.ts'

/**
 * Unstages: the staged entries of `paths` (all when absent) go back to those of the committed
 * MANIFEST. The folder's files are not touched. Returns how many paths changed.
 */
export async function resetFiles(
  repo: EntityRepo,
  ref: EntityRef,
  selection?: readonly string[],
): Promise<{ unstaged: number }> {
  const paths = entityPaths(repo, ref)
  readSpec(paths.spec, ref)
  const prefixes = selection?.map((p) => p.replace(/\/+$/, ''))
  return withEntityLock(paths, ref, async () => {
    let unstaged = 0
    const out = manifestWriter(paths.index)
    try {
      for (const [staged, committed] of joinByPath(
        readManifestFile(stagedFile(paths), true),
        readManifestFile(paths.manifest, true),
      )) {
        const path = (staged ?? committed)?.path as string
        const keep = under(path, prefixes) ? committed : staged
        if (staged?.id !== committed?.id || staged?.mode !== committed?.mode)
          if (under(path, prefixes)) unstaged++
        if (keep) out.write(keep)
      }
      if (prefixes === undefined) {
        out.abort()
        await rm(paths.index, { force: true })
      } else out.finish()
    } catch (err) {
      out.abort()
      throw err
    }
    return { unstaged }
  })
}
