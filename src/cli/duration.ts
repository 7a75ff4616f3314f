import { MlvcError } from '../core/index.ts'

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 } as const

function isUnit(unit: string): unit is keyof typeof UNIT_MS {
  return Object.hasOwn(UNIT_MS, unit)
}

/** A duration as options give it (`90s`, `10m`, `1.5h`, `2d`, `0`) in milliseconds; USAGE naming `option` otherwise. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  const unit = match?.[2] ?? (match?.[1] !== undefined && Number(match[1]) === 0 ? 'ms' : '')
  if (!match || !isUnit(unit)) {
    throw new MlvcError('USAGE', `${option} ${JSON.stringify(text)}: not a duration`, {
      hint: 'give a number with a unit: 30s, 10m, 1h, 2d (or 0)',
    })
  }
  return Number(match[1]) * UNIT_MS[unit]
}
