import { MlvcError } from '../../core/index.ts'
import { listPins, pin as pinId, unpin as unpinId } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'

/** With ids: pins them (they must be in the store). Without: lists the pins. */
export async function pin(io: Io, [ids]: [string[]]): Promise<CommandResult> {
  const pins = await withRepoStore(await repoContext(io.cwd), async (store) => {
    for (const id of ids) {
      if (!(await store.has(id))) {
        throw new MlvcError('MISSING_OBJECT', `${id} is not in the store`, {
          hint: 'pin ids printed by mlvc put',
        })
      }
      await pinId(store, id)
    }
    return ids.length > 0 ? ids : listPins(store)
  })
  return { data: pins, text: ids.length > 0 ? '' : pins.join('\n') }
}

export async function unpin(io: Io, [ids]: [string[]]): Promise<CommandResult> {
  const removed = await withRepoStore(await repoContext(io.cwd), async (store) => {
    const done: string[] = []
    for (const id of ids) {
      if (await unpinId(store, id)) done.push(id)
      else io.warn(`warning: ${id} was not pinned`)
    }
    return done
  })
  return { data: removed, text: '' }
}
