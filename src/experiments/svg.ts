/**
 * A small SVG line-chart writer: axes with "nice" ticks (1, 2, 5 × 10^n), grid lines, one polyline
 * per series (broken at NaN and infinities), point markers for short series, and a legend.
 */

import { at, maxOf, minOf } from '../core/index.ts'

export interface ChartSeries {
  label: string
  points: ReadonlyArray<readonly [number, number]>
}

export interface ChartOptions {
  title?: string | undefined
  xLabel?: string | undefined
  yLabel?: string | undefined
  /** @default 860 */
  width?: number | undefined
  /** @default 500 */
  height?: number | undefined
  /** Logarithmic y axis (non-positive values are dropped). @default false */
  logY?: boolean | undefined
}

/** Tableau 10: distinguishable, and readable by most colour-blind people. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]

/** The colour of the `i`th series: the palette, over again past its end. */
const colorOf = (i: number) => at(PALETTE, i % PALETTE.length, 'palette colour')

/** About `count` round tick values covering [min, max]; whole numbers only with `integer`. */
export function niceTicks(min: number, max: number, count = 6, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return []
  if (min === max) {
    const pad = integer ? 1 : min === 0 ? 1 : Math.abs(min) * 0.1
    return niceTicks(min - pad, max + pad, count, integer)
  }
  const raw = (max - min) / Math.max(1, count - 1)
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const steps = integer && magnitude <= 1 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]
  const step = Math.max(
    integer ? 1 : 0,
    (steps.find((m) => m * magnitude >= raw) ?? 10) * magnitude,
  )
  const start = Math.floor(min / step) * step
  const ticks: number[] = []
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)))
  if ((ticks.at(-1) ?? max) < max) ticks.push(Number((start + ticks.length * step).toPrecision(12)))
  return ticks
}

/** Powers of ten; with 1, 2 and 5 times them when the range spans few decades. */
function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)))
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1]
  const out: number[] = []
  for (let e = lo; e <= hi; e++) {
    for (const m of steps) {
      const v = Number((m * 10 ** e).toPrecision(12))
      if (v <= 10 ** hi) out.push(v)
    }
  }
  const first = out.findLastIndex((v) => v <= min)
  const last = out.findIndex((v) => v >= max)
  return out.slice(Math.max(0, first), last < 0 ? out.length : last + 1)
}

/** Short tick labels: 0.001, 2.5k, 1.2M, 1e-7. */
export function formatTick(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1).replace(/\.0e/, 'e').replace('e+', 'e')
  if (a >= 1e4) return `${Number((v / 1000).toPrecision(3))}k`
  return String(Number(v.toPrecision(4)))
}

const XML_ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  "'": '&apos;',
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => XML_ESCAPES[c] ?? c)
}

const fmt = (n: number) => String(Math.round(n * 100) / 100)

function extent(values: number[]): [number, number] {
  return values.length === 0 ? [0, 1] : [minOf(values), maxOf(values)]
}

/** Splits a series where a value cannot be drawn (NaN, ±Infinity, ≤0 on a log axis). */
function segments(
  points: ChartSeries['points'],
  logY: boolean,
): Array<Array<readonly [number, number]>> {
  const out: Array<Array<readonly [number, number]>> = [[]]
  for (const p of points) {
    const ok = Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0)
    if (ok) out[out.length - 1]?.push(p)
    else if ((out.at(-1)?.length ?? 0) > 0) out.push([])
  }
  return out.filter((s) => s.length > 0)
}

export function renderLineChart(
  series: readonly ChartSeries[],
  options: ChartOptions = {},
): string {
  const width = options.width ?? 860
  const height = options.height ?? 500
  const logY = options.logY === true
  const drawn = series.map((s) => segments(s.points, logY))
  const all = drawn.flat(2)
  const [x0, x1] = extent(all.map((p) => p[0]))
  const [y0, y1] = extent(all.map((p) => (logY ? Math.log10(p[1]) : p[1])))
  const xTicks = niceTicks(
    x0,
    x1,
    8,
    all.every((p) => Number.isInteger(p[0])),
  )
  const yTicks = logY ? logTicks(10 ** y0, 10 ** y1) : niceTicks(y0, y1, 6)
  const xmin = Math.min(x0, xTicks[0] ?? x0)
  const xmax = Math.max(x1, xTicks.at(-1) ?? x1)
  const yv = (v: number) => (logY ? Math.log10(v) : v)
  const ymin = Math.min(y0, yv(yTicks[0] ?? 10 ** y0))
  const ymax = Math.max(y1, yv(yTicks.at(-1) ?? 10 ** y1))
  const legendWidth = Math.min(
    300,
    40 +
      maxOf(
        series.map((s) => s.label.length),
        0,
      ) *
        7,
  )
  const m = { top: options.title ? 48 : 24, right: legendWidth + 24, bottom: 56, left: 72 }
  const pw = width - m.left - m.right
  const ph = height - m.top - m.bottom
  const sx = (x: number) => m.left + ((x - xmin) / (xmax - xmin || 1)) * pw
  const sy = (y: number) => m.top + ph - ((yv(y) - ymin) / (ymax - ymin || 1)) * ph
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  if (options.title)
    out.push(
      `<text x="${m.left}" y="28" font-size="16" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`,
    )
  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">')
  for (const t of yTicks)
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${fmt(sy(t))}" y2="${fmt(sy(t))}"/>`)
  for (const t of xTicks)
    out.push(`<line x1="${fmt(sx(t))}" x2="${fmt(sx(t))}" y1="${m.top}" y2="${m.top + ph}"/>`)
  out.push('</g>')
  out.push(
    `<g class="axes" stroke="#444" stroke-width="1"><line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}"/><line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}"/></g>`,
  )
  out.push('<g class="ticks" fill="#444">')
  for (const t of yTicks)
    out.push(
      `<text x="${m.left - 8}" y="${fmt(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`,
    )
  for (const t of xTicks)
    out.push(
      `<text x="${fmt(sx(t))}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`,
    )
  out.push('</g>')
  if (options.xLabel)
    out.push(
      `<text x="${fmt(m.left + pw / 2)}" y="${height - 14}" text-anchor="middle" fill="#222">${escapeXml(options.xLabel)}</text>`,
    )
  if (options.yLabel)
    out.push(
      `<text transform="translate(18 ${fmt(m.top + ph / 2)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(options.yLabel)}</text>`,
    )
  drawn.forEach((segs, i) => {
    const color = colorOf(i)
    out.push(
      `<g class="series" stroke="${color}" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">`,
    )
    for (const seg of segs)
      out.push(
        `<polyline points="${seg.map((p) => `${fmt(sx(p[0]))},${fmt(sy(p[1]))}`).join(' ')}"/>`,
      )
    const count = segs.reduce((n, s) => n + s.length, 0)
    if (count <= 40) {
      for (const seg of segs)
        for (const p of seg)
          out.push(
            `<circle cx="${fmt(sx(p[0]))}" cy="${fmt(sy(p[1]))}" r="2.5" fill="${color}" stroke="none"/>`,
          )
    }
    out.push('</g>')
  })
  out.push(`<g class="legend" transform="translate(${width - legendWidth - 8} ${m.top})">`)
  series.forEach((s, i) => {
    const color = colorOf(i)
    const y = i * 20
    const full = s.points.length === 0 ? `${s.label} (no data)` : s.label
    const label = full.length > 38 ? `…${full.slice(-37)}` : full
    out.push(
      `<line x1="0" x2="22" y1="${y + 8}" y2="${y + 8}" stroke="${color}" stroke-width="3"/><text x="30" y="${y + 12}" fill="#222">${escapeXml(label)}</text>`,
    )
  })
  out.push('</g>')
  if (all.length === 0)
    out.push(
      `<text x="${fmt(m.left + pw / 2)}" y="${fmt(m.top + ph / 2)}" text-anchor="middle" fill="#888">no data</text>`,
    )
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
