import { MlvcError } from '../../core/index.ts'
import { listPins, pin as pinId, unpin as unpinId } from '../../store/index.ts'
import { openRepoStore, repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'

/** With ids: pins them (they must be in the store). Without: lists the pins. */
export async function pin(ids: string[], io: Io): Promise<CommandResult> {
  const store = await openRepoStore(await repoContext(io.cwd))
  try {
    for (const id of ids) {
      if (!(await store.has(id))) {
        throw new MlvcError('MISSING_OBJECT', `${id} is not in the store`, {
          hint: 'pin ids printed by mlvc put',
        })
      }
      await pinId(store, id)
    }
    const pins = ids.length > 0 ? ids : await listPins(store)
    return { data: pins, text: ids.length > 0 ? '' : pins.join('\n') }
  } finally {
    await store.close()
  }
}

export async function unpin(ids: string[], io: Io): Promise<CommandResult> {
  const store = await openRepoStore(await repoContext(io.cwd))
  try {
    const removed: string[] = []
    for (const id of ids) {
      if (await unpinId(store, id)) removed.push(id)
      else io.warn(`warning: ${id} was not pinned`)
    }
    return { data: removed, text: '' }
  } finally {
    await store.close()
  }
}
