import type { Decision, Direction, IndexEntry, SideName, SideState } from './index.ts'
import { type Known, summarizeHistory } from './state.ts'

/** Both ends' view of the histories, summarized once. */
export interface PlanInput {
  a: SideState
  b: SideState
  knownA: Map<string, Known>
  knownB: Map<string, Known>
}

export function planInput(a: SideState, b: SideState): PlanInput {
  return { a, b, knownA: summarizeHistory(a.history), knownB: summarizeHistory(b.history) }
}

const other = (side: SideName): SideName => (side === 'a' ? 'b' : 'a')

/**
 * One side holds the experiment, the other does not. New to the other side: copy. The other side
 * deleted exactly a version this side has held: delete here. Deleted there after an older version,
 * changed here since: a conflict.
 */
function oneSided(held: SideName, cur: IndexEntry, otherKnown: Known | undefined): Decision {
  if (!otherKnown) return { kind: 'copy', from: held, replace: false }
  if (otherKnown.last.op !== 'delete') return { kind: 'copy', from: held, replace: false }
  if (otherKnown.hashes.has(cur.hash)) return { kind: 'delete', on: held }
  return {
    kind: 'conflict',
    reason: `deleted on ${other(held).toUpperCase()}, changed on ${held.toUpperCase()} since`,
  }
}

/**
 * Decides from the histories alone. A version one side has held before is older than the other's
 * current one: the newer replaces it. Neither side knowing the other's version means both changed
 * (or the same id names two different experiments): a conflict, reported and left as it is.
 */
export function decide(id: string, input: PlanInput): Decision {
  const brokenReason = input.a.broken.get(id) ?? input.b.broken.get(id)
  if (brokenReason !== undefined) return { kind: 'skip', reason: brokenReason }
  const ca = input.a.index.get(id)
  const cb = input.b.index.get(id)
  const ka = input.knownA.get(id)
  const kb = input.knownB.get(id)
  if (ca && cb) {
    if (ca.hash === cb.hash) return { kind: 'same' }
    const aHeldB = ka?.hashes.has(cb.hash) === true
    const bHeldA = kb?.hashes.has(ca.hash) === true
    if (aHeldB && !bHeldA) return { kind: 'copy', from: 'a', replace: true }
    if (bHeldA && !aHeldB) return { kind: 'copy', from: 'b', replace: true }
    if (aHeldB && bHeldA)
      return { kind: 'conflict', reason: 'each side has held the other’s version' }
    const shared = [...(ka?.hashes ?? [])].some((h) => kb?.hashes.has(h))
    return {
      kind: 'conflict',
      reason: shared ? 'changed on both sides' : 'the same id names different experiments',
    }
  }
  if (ca) return oneSided('a', ca, kb)
  if (cb) return oneSided('b', cb, ka)
  return { kind: 'same' }
}

/** A conflict resolved in favour of `prefer`: its version (or its deletion) wins. */
export function preferred(id: string, input: PlanInput, prefer: SideName): Decision {
  const mine = prefer === 'a' ? input.a.index.get(id) : input.b.index.get(id)
  const theirs = prefer === 'a' ? input.b.index.get(id) : input.a.index.get(id)
  if (mine) return { kind: 'copy', from: prefer, replace: theirs !== undefined }
  return { kind: 'delete', on: other(prefer) }
}

/** Whether a sync in `direction` may change end `side`. */
export function allowed(side: SideName, direction: Direction): boolean {
  return (
    direction === undefined || direction === 'both' || (direction === 'a-to-b') === (side === 'b')
  )
}
