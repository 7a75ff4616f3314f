import type { ExpSide, HistoryRecord, SideName, SideState } from './index.ts'
import { recordKey } from './state.ts'

/** One end of a sync while it runs: its state and the history records it is to be given. */
export interface End {
  name: SideName
  side: ExpSide
  state: SideState
  /** Records to append to this end's history. */
  added: HistoryRecord[]
  keys: Set<string>
  byId: Map<string, HistoryRecord[]>
}

export function end(name: SideName, side: ExpSide, state: SideState): End {
  const e: End = { name, side, state, added: [], keys: new Set(), byId: new Map() }
  for (const r of state.history) remember(e, r)
  return e
}

function remember(target: End, r: HistoryRecord): boolean {
  const key = recordKey(r)
  if (target.keys.has(key)) return false
  target.keys.add(key)
  const list = target.byId.get(r.id)
  if (list) list.push(r)
  else target.byId.set(r.id, [r])
  return true
}

export function record(target: End, r: HistoryRecord): void {
  if (remember(target, r)) target.added.push(r)
}

/** Gives each end the other's history records for `id`: they now agree about it. */
export function mergeHistory(id: string, x: End, y: End): void {
  for (const r of [...(x.byId.get(id) ?? [])]) record(y, r)
  for (const r of [...(y.byId.get(id) ?? [])]) record(x, r)
}
