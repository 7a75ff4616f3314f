const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
}

/** Parses `1g`, `256m`, `64MiB`, `4096k`, `1048576` (binary units) into bytes. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const factor = match ? UNITS[(match[2] ?? '').toLowerCase()] : undefined
  if (!match || factor === undefined) {
    throw new RangeError(`not a size: ${JSON.stringify(text)} (use 1g, 256m, 64MiB or bytes)`)
  }
  const bytes = Math.round(Number(match[1]) * factor)
  if (bytes <= 0) throw new RangeError(`size must be positive: ${text}`)
  return bytes
}

/** 1 GiB, 64 MiB, 1.5 GiB, 300 B: binary units, at most two decimals. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Math.abs(bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const sign = bytes < 0 ? '-' : ''
  if (unit === 0) return `${sign}${value} B`
  return `${sign}${Number(value.toFixed(2))} ${units[unit]}`
}
