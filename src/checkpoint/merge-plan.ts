import { isDType } from '../formats/index.ts'
import type { CheckpointMeta, TensorRecord } from './meta.ts'
import { describeStrategy, type StrategySpec, strategyOf } from './strategy.ts'

export type Side = 'base' | 'ours' | 'theirs'

/** What happens to one tensor in a three-way merge. */
export type TensorDecision =
  | { name: string; action: 'take'; side: Side; why: string }
  | { name: string; action: 'drop'; why: string }
  | { name: string; action: 'merge'; spec: StrategySpec }
  | { name: string; action: 'conflict'; why: string }

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
  const keep = (side: Side, why: string): TensorDecision =>
    (side === 'ours' ? a : side === 'theirs' ? b : o)
      ? { name, action: 'take', side, why }
      : { name, action: 'drop', why }
  if (ka === kb) return keep('ours', 'same on both sides')
  if (ko === ka)
    return keep(
      'theirs',
      b ? (o ? 'changed only on theirs' : 'added on theirs') : 'removed on theirs',
    )
  if (ko === kb)
    return keep('ours', a ? (o ? 'changed only on ours' : 'added on ours') : 'removed on ours')
  if (!a || !b)
    return {
      name,
      action: 'conflict',
      why: `${a ? 'theirs' : 'ours'} removed it, the other side changed it`,
    }
  if (!sameShape(a, b) || (o && (!sameShape(o, a) || !sameShape(o, b)))) {
    return {
      name,
      action: 'conflict',
      why: `shape or dtype changed (${[o, a, b].map((t) => (t ? `${t.dtype}[${t.shape}]` : '-')).join(' / ')})`,
    }
  }
  const spec = choose(name)
  if (spec.name === 'fail') return { name, action: 'conflict', why: 'changed on both sides' }
  if (spec.name === 'ours' || spec.name === 'theirs' || spec.name === 'base') {
    return keep(spec.name, `${describeStrategy(spec)} (${spec.source})`)
  }
  const strategy = strategyOf(spec)
  if (!isDType(a.dtype) || !strategy?.appliesTo(a.dtype)) {
    return {
      name,
      action: 'conflict',
      why: `${spec.name} does not apply to ${a.dtype} tensors (only ours, theirs or base)`,
    }
  }
  if (!o && strategy.reads.includes('base')) {
    return { name, action: 'conflict', why: `added on both sides; ${spec.name} needs a base` }
  }
  return { name, action: 'merge', spec }
}
