import {
  describeStrategy,
  type MergeConflict,
  type MergeOutcome,
  parseStrategy,
  type StrategySpec,
} from '../checkpoint/index.ts'
import type { StrategyOverride, StrategyPrompt } from '../git/index.ts'
import { openTerminal } from './prompt.ts'
import { quote } from './text.ts'

/**
 * This merge's strategy: the --strategy flag, else MLVC_MERGE_STRATEGY (which `mlvc merge` sets
 * for git's merge driver).
 */
export function strategyOverride(flag?: string): StrategyOverride | undefined {
  const chosen = flag ?? process.env.MLVC_MERGE_STRATEGY
  if (!chosen) return undefined
  return { text: chosen, source: flag ? '--strategy' : 'MLVC_MERGE_STRATEGY' }
}

/** Asks on the terminal when `mlvc merge --interactive` started git (MLVC_MERGE_INTERACTIVE=1). */
export function strategyPrompt(): StrategyPrompt | undefined {
  return process.env.MLVC_MERGE_INTERACTIVE === '1' ? askStrategies : undefined
}

const ANSWERS: Record<string, string> = {
  o: 'ours',
  t: 'theirs',
  b: 'base',
  a: 'average',
  r: 'task-arithmetic',
  i: 'ties',
  f: 'fail',
}

/**
 * `mlvc merge --interactive`: asks, on the terminal, for a strategy for each tensor changed on
 * both sides. Undefined when there is no terminal.
 */
function askStrategies(
  path: string,
  conflicts: readonly MergeConflict[],
): Map<string, StrategySpec> | undefined {
  const terminal = openTerminal()
  if (!terminal) return undefined
  const answers = new Map<string, StrategySpec>()
  try {
    for (const { tensor } of conflicts) {
      if (tensor === undefined) continue
      for (;;) {
        const reply = terminal.ask(
          `${quote(path)}: ${quote(tensor)} changed on both sides. [o]urs [t]heirs [b]ase [a]verage task-a[r]ithmetic t[i]es [f]ail (or a spec like average:weights=3/1)? `,
        )
        const text = ANSWERS[reply] ?? reply
        try {
          answers.set(tensor, parseStrategy(text, 'your answer'))
          break
        } catch (err) {
          terminal.ask(`${(err as Error).message}; press Enter to try again `)
        }
      }
    }
  } finally {
    terminal.close()
  }
  return answers
}

/** How each tensor was merged, counted: "3 unchanged, 1 from theirs, 2 average". */
export function summarize(outcome: MergeOutcome): string {
  const counts = new Map<string, number>()
  for (const d of outcome.decisions) {
    const label =
      d.action === 'merge'
        ? describeStrategy(d.spec)
        : d.action === 'take'
          ? d.reason === 'same'
            ? 'unchanged'
            : `from ${d.side}`
          : d.action
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  return [...counts].map(([label, n]) => `${n} ${label}`).join(', ')
}
