import { isDType } from '../formats/index.ts'
import type { CheckpointMeta, TensorRecord } from './meta.ts'
import { describeStrategy, type StrategySpec, strategyOf } from './strategy.ts'

export type Side = 'base' | 'ours' | 'theirs'

/** Why a tensor takes one side (or is dropped): `chosen` is a strategy's choice (ours, theirs, base). */
export type TakeReason = 'same' | 'changed' | 'added' | 'removed' | 'chosen'

/** Why a tensor (or, for the last three, the whole file) cannot be merged. */
export type ConflictReason =
  /** Changed differently on both sides, and the strategy is `fail`. */
  | 'changed-on-both-sides'
  /** One side removed it, the other changed it. */
  | 'removed-and-changed'
  | 'shape-or-dtype-changed'
  /** The strategy does arithmetic, and the dtype has none (integers, bool, quantized blocks). */
  | 'strategy-not-applicable'
  /** Added on both sides, and the strategy reads the base. */
  | 'no-base'
  | 'different-formats'
  /** An ONNX model whose tensors live in external data files (see MergeOutcome.external). */
  | 'external-data'
  /** Both sides changed which tensors the file holds (no side's structure fits the result). */
  | 'tensor-set-changed'

/** What happens to one tensor in a three-way merge. `message` says it for people. */
export type TensorDecision =
  | { name: string; action: 'take'; side: Side; reason: TakeReason; message: string }
  | { name: string; action: 'drop'; reason: TakeReason; message: string }
  | { name: string; action: 'merge'; spec: StrategySpec }
  | { name: string; action: 'conflict'; reason: ConflictReason; message: string }

const keyOf = (t: TensorRecord | undefined) =>
  t ? `${t.dtype}|${t.shape.join(',')}|${t.content}` : 'absent'
const sameShape = (a: TensorRecord, b: TensorRecord) =>
  a.dtype === b.dtype && a.shape.join(',') === b.shape.join(',')

/**
 * Decides each tensor of a three-way merge. A tensor changed on one side only takes that side
 * (additions and removals included); one changed identically on both takes it; only tensors
 * changed differently on both sides go to a strategy, and those whose shape or dtype changed, or
 * that one side removed while the other changed them, are conflicts whatever the strategy.
 */
export function planMerge(
  sides: Record<Side, CheckpointMeta>,
  choose: (tensor: string) => StrategySpec,
): TensorDecision[] {
  const maps = {
    base: new Map(sides.base.tensors.map((t) => [t.name, t])),
    ours: new Map(sides.ours.tensors.map((t) => [t.name, t])),
    theirs: new Map(sides.theirs.tensors.map((t) => [t.name, t])),
  }
  const names = [...new Set([...maps.ours.keys(), ...maps.theirs.keys(), ...maps.base.keys()])]
  return names.map((name) =>
    decide(name, maps.base.get(name), maps.ours.get(name), maps.theirs.get(name), choose),
  )
}

function decide(
  name: string,
  o: TensorRecord | undefined,
  a: TensorRecord | undefined,
  b: TensorRecord | undefined,
  choose: (tensor: string) => StrategySpec,
): TensorDecision {
  const [ko, ka, kb] = [keyOf(o), keyOf(a), keyOf(b)]
  const keep = (side: Side, reason: TakeReason, message: string): TensorDecision =>
    (side === 'ours' ? a : side === 'theirs' ? b : o)
      ? { name, action: 'take', side, reason, message }
      : { name, action: 'drop', reason, message }
  const conflict = (reason: ConflictReason, message: string): TensorDecision => ({
    name,
    action: 'conflict',
    reason,
    message,
  })
  /** The side that changed alone: how it changed the tensor. */
  const onlyOn = (side: 'ours' | 'theirs', mine: TensorRecord | undefined) => {
    const reason: TakeReason = mine ? (o ? 'changed' : 'added') : 'removed'
    return keep(side, reason, `${reason === 'changed' ? 'changed only' : reason} on ${side}`)
  }
  if (ka === kb) return keep('ours', 'same', 'same on both sides')
  if (ko === ka) return onlyOn('theirs', b)
  if (ko === kb) return onlyOn('ours', a)
  if (!a || !b)
    return conflict(
      'removed-and-changed',
      `${a ? 'theirs' : 'ours'} removed it, the other side changed it`,
    )
  if (!sameShape(a, b) || (o && (!sameShape(o, a) || !sameShape(o, b)))) {
    const shapes = [o, a, b].map((t) => (t ? `${t.dtype}[${t.shape}]` : '-')).join(' / ')
    return conflict('shape-or-dtype-changed', `shape or dtype changed (${shapes})`)
  }
  const spec = choose(name)
  if (spec.name === 'fail') return conflict('changed-on-both-sides', 'changed on both sides')
  if (spec.name === 'ours' || spec.name === 'theirs' || spec.name === 'base') {
    return keep(spec.name, 'chosen', `${describeStrategy(spec)} (${spec.source})`)
  }
  const strategy = strategyOf(spec)
  if (!isDType(a.dtype) || !strategy?.appliesTo(a.dtype)) {
    return conflict(
      'strategy-not-applicable',
      `${spec.name} does not apply to ${a.dtype} tensors (only ours, theirs or base)`,
    )
  }
  if (!o && strategy.reads.includes('base')) {
    return conflict('no-base', `added on both sides; ${spec.name} needs a base`)
  }
  return { name, action: 'merge', spec }
}
