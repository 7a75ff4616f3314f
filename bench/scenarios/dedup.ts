import { pushAll } from '../../src/core/index.ts'
import type { Scenario } from '../context.ts'
import { INSERT_BYTES, insertedFile, randomFile } from '../data/random.ts'
import { addRatios } from '../rows.ts'
import { formatSize } from '../sizes.ts'
import type { PeerName } from '../types.ts'
import { type GrowthSpec, MLVC_SUBJECT, mlvcGrowthRows, peerGrowthRows } from './growth.ts'

const NAME = 'dedup'
const PEERS: PeerName[] = ['git-lfs', 'git-annex']

export const dedup: Scenario = {
  name: NAME,
  title: 'storage added by the same file again and by a copy with 1 MiB inserted in the middle',
  issue: 2,
  about: [
    'One fresh mlvc store: `mlvc put` of the random file, of the same file again, then of a copy',
    'with 1 MiB of other random bytes inserted in the middle (every later byte shifts). Growth is',
    'the change in the apparent size of the whole store folder (like `du -sb`), so it includes',
    "indexes and manifests; the note also gives the bytes mlvc's `--json` reported as new.",
    'git-lfs and git-annex commit the first version and then the second in its place in a fresh',
    'repository; their growth is that of `.git`. One pass: sizes do not vary between runs.',
  ].join('\n'),
  async run(ctx) {
    const size = ctx.options.size
    ctx.log(`dedup: input ${formatSize(size)} and a copy with 1 MiB inserted`)
    const spec: GrowthSpec = {
      scenario: NAME,
      v1: await randomFile(ctx.work.data, size),
      v2: await insertedFile(ctx.work.data, size),
      name: 'data.bin',
      metric: 'growth: 1 MiB inserted in the middle',
      size,
      againTarget: { on: 'value', op: '<=', threshold: 0, text: '0 B', source: 'issue 2' },
      v2Target: {
        on: 'value',
        op: '<',
        threshold: 2 * INSERT_BYTES,
        text: '< 2 MiB',
        source: 'issue 2',
      },
    }
    const rows = await mlvcGrowthRows(ctx, spec)
    for (const peer of PEERS.filter((p) => ctx.options.peers.includes(p))) {
      pushAll(rows, await peerGrowthRows(ctx, peer, spec))
    }
    return addRatios(rows, MLVC_SUBJECT)
  },
}
