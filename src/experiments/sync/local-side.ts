import { mkdir, rename, rm, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  acquireLock,
  fsError,
  isErrno,
  type Lock,
  MlvcError,
  pathExists,
  uniqueName,
} from '../../core/index.ts'
import { copyAndHash } from '../hash.ts'
import { readMeta } from '../meta.ts'
import { clearMissing, noteMissing } from '../missing.ts'
import { checkRelPath, joinInside } from '../paths.ts'
import { removeExperimentDir } from '../remove-dir.ts'
import { DBX, type ExpRepo } from '../repo.ts'
import { attachPath, listRepoFiles, putRepoFile, repoLinkTarget } from '../repofiles.ts'
import { type ExpVersion, type FileEntry, makeVersion, readVersion } from '../version.ts'
import type { ExpSide } from './index.ts'
import { type LocalState, refreshLocalState, saveLocalState } from './local-state.ts'

/**
 * Renames a staged folder into place, creating its parents. Another experiment's removal may prune
 * a parent that just became empty between the two steps, so ENOENT is retried.
 */
async function moveInto(staging: string, final: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(final), { recursive: true })
    try {
      await rename(staging, final)
      return
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || attempt >= 5) throw fsError(err, 'moving into place', final)
    }
  }
}

/** Refuses a path inside another experiment's folder (it would become that one's files). */
async function checkNotNested(repo: ExpRepo, final: string, id: string): Promise<void> {
  for (let dir = dirname(final); dir.length > repo.root.length; dir = dirname(dir)) {
    if (await pathExists(join(dir, 'meta.json'))) {
      throw new MlvcError(
        'UNSAFE_PATH',
        `experiment ${id}: ${final} lies inside the experiment at ${dir}`,
      )
    }
  }
}

async function stage(
  repo: ExpRepo,
  version: ExpVersion,
  fill: Parameters<ExpSide['putExperiment']>[1],
  staging: string,
): Promise<ExpVersion> {
  const final = joinInside(repo.root, version.path, `experiment ${version.id}`)
  const files: FileEntry[] = []
  for (const file of version.files) {
    const to = join(staging, checkRelPath(file.name, `file of ${version.id}`))
    await mkdir(dirname(to), { recursive: true })
    const { sha256, size } = await fill(file.name)(to)
    files.push({ name: file.name, sha256, size })
  }
  for (const r of version.repofiles) {
    const rel = checkRelPath(r.name, `RepoFile of ${version.id}`)
    const link = join(staging, rel)
    await mkdir(dirname(link), { recursive: true })
    await symlink(repoLinkTarget(repo, join(final, rel), r.sha256), link)
  }
  const meta = await readMeta(staging)
  if (meta.id !== version.id) {
    throw new MlvcError('CORRUPT', `experiment ${version.id}: its meta.json says id ${meta.id}`)
  }
  return makeVersion(version.id, version.path, files, [...version.repofiles])
}

/** A repository on this machine as one end of a sync. */
export function localSide(repo: ExpRepo): ExpSide {
  let state: LocalState | undefined
  let lock: Lock | undefined
  const versions = () => state?.versions ?? new Map<string, ExpVersion>()
  return {
    label: repo.root,
    isLocal: true,
    async load({ dryRun }) {
      if (!dryRun)
        lock = await acquireLock(join(repo.dbx, DBX.syncLock), `experiment repository ${repo.root}`)
      state = await refreshLocalState(repo, { dryRun })
      return {
        index: state.index,
        history: state.history,
        broken: state.broken,
        problems: state.problems,
      }
    },
    async version(entry) {
      const known = versions().get(entry.id)
      if (known && known.hash === entry.hash) return known
      const dir = joinInside(repo.root, entry.path, `experiment ${entry.id}`)
      return readVersion(repo, { id: entry.id, path: entry.path, dir })
    },
    fetchFile(version, name, to) {
      const dir = joinInside(repo.root, version.path, `experiment ${version.id}`)
      return copyAndHash(joinInside(dir, name, `file of ${version.id}`), to)
    },
    async putExperiment(version, fill, old) {
      const final = joinInside(repo.root, version.path, `experiment ${version.id}`)
      const samePlace = old !== undefined && old.path === version.path
      if (!samePlace && (await pathExists(final))) {
        throw new MlvcError(
          'USAGE',
          `cannot write experiment ${version.id} to ${final}: the folder exists`,
          {
            hint: 'move that folder away, or give one of the experiments another name',
          },
        )
      }
      await checkNotNested(repo, final, version.id)
      const staging = join(repo.dbx, DBX.tmp, uniqueName(`incoming-${version.id}`))
      await mkdir(staging, { recursive: true })
      try {
        const written = await stage(repo, version, fill, staging)
        if (samePlace && (await pathExists(final))) {
          const aside = join(repo.dbx, DBX.tmp, uniqueName('replaced'))
          await rename(final, aside)
          await moveInto(staging, final)
          await rm(aside, { recursive: true, force: true })
        } else {
          await moveInto(staging, final)
          if (old) await removeExperimentDir(repo, old)
        }
        versions().set(version.id, written)
        return written
      } catch (err) {
        await rm(staging, { recursive: true, force: true })
        throw fsError(err, 'writing experiment', final)
      }
    },
    async deleteExperiment(entry) {
      await removeExperimentDir(repo, entry)
      versions().delete(entry.id)
    },
    repoFiles: () => listRepoFiles(repo),
    async fetchRepoFile(sha256, to) {
      const result = await copyAndHash(attachPath(repo, sha256), to)
      if (result.sha256 !== sha256) {
        throw new MlvcError(
          'CORRUPT',
          `${attachPath(repo, sha256)}: content hashes to ${result.sha256}, not to its name`,
          { hint: 'run mlvc exp fsck; fetch the RepoFile again from another copy' },
        )
      }
      return result
    },
    async putRepoFile(sha256, fill) {
      await putRepoFile(repo, fill, sha256)
      await clearMissing(repo, [sha256])
    },
    referencedRepoFiles() {
      return [...versions().values()].flatMap((v) =>
        v.repofiles.map((r) => ({
          id: v.id,
          hash: v.hash,
          sha256: r.sha256,
          where: `${v.path}/${r.name}`,
        })),
      )
    },
    noteMissing: (found) => noteMissing(repo, found),
    save: (index, added) => saveLocalState(repo, index, added),
    async close() {
      await lock?.release()
      lock = undefined
    },
  }
}
