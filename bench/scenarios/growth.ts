import { join } from 'node:path'
import type { BenchContext } from '../context.ts'
import { placeFile, removeTree, treeSize } from '../fsutil.ts'
import { mlvcPut, parsePut } from '../mlvc.ts'
import {
  commitAll,
  initPeerRepo,
  PEER_PLACEMENT,
  PEER_SUBJECT,
  peerAddCommand,
  peerMissing,
  peerStoreDir,
} from '../peers/repos.ts'
import { exec } from '../proc.ts'
import { row, unavailable } from '../rows.ts'
import type { PeerName, ResultRow, Target } from '../types.ts'

/** A first and a second version of one file, stored one after the other. */
export interface GrowthSpec {
  scenario: string
  v1: string
  v2: string
  /** The file's name in the peers' work trees. */
  name: string
  /** The metric of the second version's growth, e.g. "growth: 1 MiB inserted in the middle". */
  metric: string
  /** Size of v1, for percentages. */
  size: number
  /** Also store v1 a second time (mlvc only), with this target. */
  againTarget?: Target
  v2Target?: Target
}

export const MLVC_SUBJECT = 'mlvc put'

function share(bytes: number, size: number): string {
  return `${bytes.toLocaleString('en-US')} B, ${((100 * bytes) / size).toFixed(2)}% of the file`
}

async function putGrowth(ctx: BenchContext, store: string, file: string) {
  const before = await treeSize(store)
  const reported = parsePut(await exec(mlvcPut(ctx, store, [file])))
  const newBytes = reported.reduce((sum, r) => sum + r.newBytes, 0)
  return { growth: (await treeSize(store)) - before, newBytes }
}

/** Store size after v1, growth from v1 again (optional) and from v2, measured with treeSize. */
export async function mlvcGrowthRows(ctx: BenchContext, spec: GrowthSpec): Promise<ResultRow[]> {
  const who = { scenario: spec.scenario, subject: MLVC_SUBJECT }
  const store = await ctx.work.tempDir('mlvc-store')
  try {
    const first = await putGrowth(ctx, store, spec.v1)
    const rows = [
      row(who, 'store after the first version', 'B', [first.growth], {
        note: share(first.growth, spec.size),
      }),
    ]
    if (spec.againTarget) {
      const again = await putGrowth(ctx, store, spec.v1)
      const note = `${share(again.growth, spec.size)}; mlvc reported ${again.newBytes.toLocaleString('en-US')} new bytes`
      rows.push(
        row(who, 'growth: same file again', 'B', [again.growth], {
          target: spec.againTarget,
          note,
        }),
      )
    }
    const second = await putGrowth(ctx, store, spec.v2)
    const note = `${share(second.growth, spec.size)}; mlvc reported ${second.newBytes.toLocaleString('en-US')} new bytes`
    const extra = spec.v2Target ? { target: spec.v2Target, note } : { note }
    rows.push(row(who, spec.metric, 'B', [second.growth], extra))
    return rows
  } finally {
    await removeTree(store)
  }
}

async function addAndCommit(ctx: BenchContext, peer: PeerName, dir: string, spec: GrowthSpec) {
  await exec(peerAddCommand(ctx, peer, dir, spec.name))
  await commitAll(ctx, dir, spec.name)
  return treeSize(peerStoreDir(dir))
}

/** The same for a peer: .git after committing v1, and its growth after committing v2 in place. */
export async function peerGrowthRows(
  ctx: BenchContext,
  peer: PeerName,
  spec: GrowthSpec,
): Promise<ResultRow[]> {
  const who = { scenario: spec.scenario, subject: PEER_SUBJECT[peer] }
  const missing = peerMissing(ctx, peer)
  if (missing) return [unavailable(who, spec.metric, 'B', missing)]
  ctx.log(`${spec.scenario}: ${who.subject}, two versions`)
  const dir = await ctx.work.tempDir(peer)
  try {
    await initPeerRepo(ctx, peer, dir)
    const empty = await treeSize(peerStoreDir(dir))
    await placeFile(spec.v1, join(dir, spec.name), PEER_PLACEMENT[peer])
    const afterV1 = await addAndCommit(ctx, peer, dir, spec)
    await placeFile(spec.v2, join(dir, spec.name), PEER_PLACEMENT[peer])
    const growth = (await addAndCommit(ctx, peer, dir, spec)) - afterV1
    return [
      row(who, 'store after the first version', 'B', [afterV1 - empty], {
        note: share(afterV1 - empty, spec.size),
      }),
      row(who, spec.metric, 'B', [growth], { note: share(growth, spec.size) }),
    ]
  } finally {
    await removeTree(dir)
  }
}
