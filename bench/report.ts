import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { Scenario } from './context.ts'
import { COLUMNS, renderTextTable, rowCells } from './format.ts'
import { mergeDocument, type RunInfo, renderSection, type SectionInput } from './markdown.ts'
import { tally } from './targets.ts'

/** One scenario's figures as a plain-text block for stdout. */
export function renderScenarioText(section: SectionInput): string {
  const counts = tally(section.rows)
  const lines = [
    `== ${section.name}: ${section.title} (issue ${section.issue})`,
    renderTextTable(COLUMNS, section.rows.map(rowCells)),
    `targets: ${counts.pass} PASS, ${counts.fail} FAIL, ${counts.na} not measured`,
  ]
  if (section.error) lines.push(`ERROR: ${section.error}`)
  return `${lines.join('\n')}\n`
}

/** Rewrites the report atomically, keeping the sections of scenarios that did not run. */
export async function writeReport(
  path: string,
  sections: SectionInput[],
  order: readonly Scenario[],
  run: RunInfo,
): Promise<void> {
  const existing = existsSync(path) ? await readFile(path, 'utf8') : undefined
  const fresh = new Map(sections.map((s) => [s.name, renderSection(s, run)]))
  const text = mergeDocument(
    existing,
    fresh,
    order.map((s) => s.name),
    run,
  )
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, text)
  await rename(tmp, path)
}
