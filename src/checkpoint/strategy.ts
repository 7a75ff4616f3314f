import { MlvcError } from '../core/index.ts'
import {
  average,
  base,
  type MergeStrategy,
  ours,
  taskArithmetic,
  theirs,
  ties,
} from '../tensors/index.ts'

export type StrategyName =
  | 'fail'
  | 'ours'
  | 'theirs'
  | 'base'
  | 'average'
  | 'task-arithmetic'
  | 'ties'

const NAMES: readonly StrategyName[] = [
  'fail',
  'ours',
  'theirs',
  'base',
  'average',
  'task-arithmetic',
  'ties',
]

/** A strategy and its parameters, as written in attributes, config, the environment or flags. */
export interface StrategySpec {
  name: StrategyName
  /** `weights=0.3/0.7`, `lambda=0.5` or `lambda=0.5/0.8`, `density=0.2`. */
  params: Record<string, number[]>
  /** Where it came from, for reports. */
  source: string
}

/**
 * Parses `name` or `name:key=value,key=value` — one token, so that it fits a .gitattributes value
 * (`*.safetensors merge=mlvc mlvc-merge=average:weights=0.7/0.3`).
 */
export function parseStrategy(text: string, source: string): StrategySpec {
  const [rawName = '', rawParams = ''] = text.trim().split(':', 2)
  const name = rawName as StrategyName
  if (!NAMES.includes(name)) {
    throw new MlvcError('USAGE', `${source}: unknown merge strategy "${rawName}"`, {
      hint: `use one of ${NAMES.join(', ')}`,
    })
  }
  const params: Record<string, number[]> = {}
  for (const pair of rawParams.split(',').filter(Boolean)) {
    const [key = '', value = ''] = pair.split('=', 2)
    const numbers = value.split('/').map(Number)
    if (
      !['weights', 'lambda', 'density'].includes(key) ||
      numbers.some((x) => !Number.isFinite(x))
    ) {
      throw new MlvcError(
        'USAGE',
        `${source}: bad merge parameter "${pair}" (weights=a/b, lambda=x or x/y, density=x)`,
      )
    }
    params[key] = numbers
  }
  return { name, params, source }
}

/** The tensors' strategy object for a spec; undefined for `fail`. */
export function strategyOf(spec: StrategySpec): MergeStrategy | undefined {
  const pair = (key: string) => {
    const [first, second] = spec.params[key] ?? []
    if (first === undefined) return undefined
    return second === undefined ? first : { ours: first, theirs: second }
  }
  switch (spec.name) {
    case 'fail':
      return undefined
    case 'ours':
      return ours()
    case 'theirs':
      return theirs()
    case 'base':
      return base()
    case 'average': {
      const weights = pair('weights')
      return average(typeof weights === 'object' ? { weights } : {})
    }
    case 'task-arithmetic':
      return taskArithmetic({ lambda: pair('lambda') })
    case 'ties':
      return ties({ density: spec.params.density?.[0], lambda: spec.params.lambda?.[0] })
  }
}

export function describeStrategy(spec: StrategySpec): string {
  const params = Object.entries(spec.params).map(([k, v]) => `${k}=${v.join('/')}`)
  return params.length > 0 ? `${spec.name} (${params.join(', ')})` : spec.name
}
