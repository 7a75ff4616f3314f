import type { Scenario } from '../context.ts'
import { ckptAdd } from './ckpt-add.ts'
import { ckptDedup } from './ckpt-dedup.ts'
import { ckptDiff } from './ckpt-diff.ts'
import { ckptGrowth } from './ckpt-growth.ts'
import { ckptLowrank } from './ckpt-lowrank.ts'
import { ckptMerge } from './ckpt-merge.ts'
import { ckptRss } from './ckpt-rss.ts'
import { ckptTensors } from './ckpt-tensors.ts'
import { compress } from './compress.ts'
import { dedup } from './dedup.ts'
import { deploy } from './deploy.ts'
import { entities } from './entities.ts'
import { expList } from './exp-list.ts'
import { expSync } from './exp-sync.ts'
import { gitAdd } from './git-add.ts'
import { gitCheckout } from './git-checkout.ts'
import { gitClone } from './git-clone.ts'
import { gitRemoteGrowth } from './git-remote-growth.ts'
import { gitStatusTouch } from './git-status-touch.ts'
import { hub } from './hub.ts'
import { put } from './put.ts'
import { rss } from './rss.ts'
import { s3Many } from './s3-many.ts'
import { s3Transfer } from './s3-transfer.ts'

/**
 * Every scenario, in the order they run and appear in BENCHMARKS.md. A new scenario is a module
 * exporting a `Scenario`, added here.
 */
export const SCENARIOS: readonly Scenario[] = [
  put,
  dedup,
  rss,
  ckptDedup,
  gitAdd,
  gitStatusTouch,
  gitCheckout,
  gitClone,
  gitRemoteGrowth,
  ckptGrowth,
  ckptAdd,
  ckptDiff,
  ckptRss,
  ckptMerge,
  ckptTensors,
  compress,
  ckptLowrank,
  expList,
  expSync,
  s3Transfer,
  s3Many,
  entities,
  hub,
  deploy,
]

export function findScenarios(names: readonly string[] | undefined): Scenario[] {
  if (!names) return [...SCENARIOS]
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n))
  if (unknown.length > 0) {
    const known = SCENARIOS.map((s) => s.name).join(', ')
    throw new RangeError(`unknown scenario ${unknown.join(', ')} (known: ${known})`)
  }
  return SCENARIOS.filter((s) => names.includes(s.name))
}
