import { MlvcError } from '../core/index.ts'

/**
 * A sampled checkout, as in ml-git, over the version's files in manifest (path) order:
 * `group:A:B` keeps A files chosen at random of every B in a row; `random:A:B` keeps A in B of all
 * the files (⌊N·A/B⌋, at least one), chosen at random; `range:START:STOP:STEP` keeps the files at
 * START, START+STEP, … below STOP. Random choices come from `seed`: the same seed, the same files.
 */
export type Sample =
  | { type: 'group'; amount: number; size: number; seed: number }
  | { type: 'random'; amount: number; size: number; seed: number }
  | { type: 'range'; start: number; stop: number | undefined; step: number }

function usage(text: string, what: string): MlvcError {
  return new MlvcError('USAGE', `--sample-type ${text}: ${what}`, {
    hint: 'group:A:B (A of every B files), random:A:B (A in B at random), range:START:STOP[:STEP]',
  })
}

function whole(text: string, part: string | undefined, name: string): number {
  if (part === undefined || !/^[0-9]{1,15}$/.test(part))
    throw usage(text, `${name} must be a whole number`)
  return Number(part)
}

export function parseSample(text: string, seed = 1): Sample {
  const [type, ...args] = text.split(':')
  switch (type) {
    case 'group':
    case 'random': {
      if (args.length !== 2) throw usage(text, `${type} takes A:B`)
      const amount = whole(text, args[0], 'A')
      const size = whole(text, args[1], 'B')
      if (amount < 1 || size < 1 || amount > size)
        throw usage(text, 'A and B must be at least 1, and A at most B')
      return { type, amount, size, seed }
    }
    case 'range': {
      if (args.length < 2 || args.length > 3)
        throw usage(text, 'range takes START:STOP or START:STOP:STEP')
      const start = whole(text, args[0], 'START')
      const stop = args[1] === '' ? undefined : whole(text, args[1], 'STOP')
      const step = args[2] === undefined ? 1 : whole(text, args[2], 'STEP')
      if (step < 1) throw usage(text, 'STEP must be at least 1')
      if (stop !== undefined && stop <= start) throw usage(text, 'STOP must be above START')
      return { type: 'range', start, stop, step }
    }
    default:
      throw usage(text, `unknown sample type ${JSON.stringify(type)}`)
  }
}

/** A small seeded generator (mulberry32): reproducible on every machine and Node version. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Selection sampling (Knuth's algorithm S): keeps exactly `want` of `total` items offered in order,
 * each subset equally likely, with one random number per item and no memory of the items.
 */
function choose(want: number, total: number, next: () => number): () => boolean {
  let left = total
  let needed = want
  return () => {
    const keep = next() * left < needed
    left--
    if (keep) needed--
    return keep
  }
}

/**
 * The sample's choice for each of `total` files offered in order (call it once per file, in
 * order). A sample that cannot pick anything from `total` files is a USAGE error.
 */
export function sampler(sample: Sample, total: number, text: string): () => boolean {
  switch (sample.type) {
    case 'range': {
      if (sample.start >= total)
        throw usage(text, `START ${sample.start} is out of range: the version has ${total} files`)
      if (sample.stop !== undefined && sample.stop > total)
        throw usage(text, `STOP ${sample.stop} is out of range: the version has ${total} files`)
      let index = 0
      const stop = sample.stop ?? total
      return () => {
        const i = index++
        return i >= sample.start && i < stop && (i - sample.start) % sample.step === 0
      }
    }
    case 'random': {
      if (total === 0) throw usage(text, 'the version has no files')
      return choose(
        Math.max(1, Math.floor((total * sample.amount) / sample.size)),
        total,
        random(sample.seed),
      )
    }
    case 'group': {
      if (total === 0) throw usage(text, 'the version has no files')
      const next = random(sample.seed)
      let index = 0
      let group: () => boolean = () => false
      return () => {
        if (index % sample.size === 0) {
          const size = Math.min(sample.size, total - index)
          group = choose(Math.min(sample.amount, size), size, next)
        }
        index++
        return group()
      }
    }
  }
}
