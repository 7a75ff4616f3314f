import { createHash } from 'node:crypto'
import { join } from 'node:path'
import {
  createExperiment,
  ID_ALPHABET,
  ID_LENGTH,
  initExpRepo,
} from '../../src/experiments/index.ts'
import { cachedDir } from './cache-dir.ts'

/** Bump when the experiments a generator writes change, so cached repositories are not reused. */
const VERSION = 1

export interface ExpRepoSpec {
  experiments: number
  /** log.jsonl lines per experiment. */
  lines: number
}

/** A deterministic dbx-style id (13 symbols of dbxlogger's alphabet) for experiment `index`. */
export function experimentId(index: number): string {
  const digest = createHash('sha256').update(`mlvc-bench-experiment-${index}`).digest()
  let id = ''
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[(digest[i] as number) % ID_ALPHABET.length]
  return id
}

const LR = [0.1, 0.03, 0.01, 0.003]
const BATCH = [32, 64, 128]

/** Parameters of a small sweep: 10 groups, varying lr, batch, depth and seed. */
export function experimentParams(index: number): Record<string, unknown> {
  return {
    lr: LR[index % LR.length],
    batch: BATCH[index % BATCH.length],
    model: { depth: 18 + 16 * (index % 3), width: 256 },
    seed: index,
  }
}

/** A plausible training curve, different per experiment. */
export function stepValues(index: number, step: number): Record<string, number> {
  const loss = 2 / (1 + step / 10) + (index % 7) * 0.01
  return {
    loss: Number(loss.toFixed(6)),
    acc: Number((1 - loss / 2.2).toFixed(6)),
    lr: LR[index % LR.length] as number,
  }
}

async function writeRepo(dir: string, final: string, spec: ExpRepoSpec): Promise<void> {
  const repo = await initExpRepo(dir)
  const start = Date.UTC(2026, 0, 1)
  for (let i = 0; i < spec.experiments; i++) {
    const exp = await createExperiment(repo, {
      id: experimentId(i),
      name: `sweep/group-${i % 10}`,
      kind: 'train',
      params: experimentParams(i),
      git: false,
      cwd: final,
      cmd: ['train.py', `--seed=${i}`],
      createdAt: new Date(start + i * 60_000),
    })
    for (let step = 1; step <= spec.lines; step++)
      exp.sub(`train/step/${step}`).log('end', stepValues(i, step))
    exp.close()
  }
}

/**
 * A dbx experiment repository written by mlvc's logger API (`createExperiment(…).log(…)`), once,
 * in `dataDir`, and reused: `experiments` experiments with meta.json and `lines` log lines each.
 * Commands that write into a repository (sync) must get a copy.
 */
export function experimentRepo(dataDir: string, spec: ExpRepoSpec): Promise<string> {
  const path = join(dataDir, `exp-v${VERSION}-${spec.experiments}x${spec.lines}`)
  return cachedDir(path, (tmp) => writeRepo(tmp, path, spec))
}
