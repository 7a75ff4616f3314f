import { Command } from '@commander-js/extra-typings'
import { describe, expect, it } from 'vitest'
import { runs } from './action.ts'
import type { CommandResult, Io } from './io.ts'

describe('runs', () => {
  it("hands the implementation the shell's Io, the operands in order and the options", async () => {
    const calls: Array<{ io: Io; operands: unknown; options: unknown }> = []
    const impl = async (
      io: Io,
      operands: [string, string[]],
      options: { all?: boolean | undefined; remote?: string | undefined },
    ): Promise<CommandResult> => {
      calls.push({ io, operands, options })
      return { data: null, text: '' }
    }
    let loaded = 0
    const program = new Command('mlvc')
      .option('--json')
      .option('-q, --quiet')
      .option('--debug')
      .option('-C, --cwd <dir>')
    program
      .command('go')
      .argument('<name>')
      .argument('[rest...]')
      .option('--all')
      .option('--remote <name>')
      .action(
        runs(async () => {
          loaded++
          return impl
        }),
      )
    expect(loaded).toBe(0)
    await program.parseAsync(['-q', 'go', 'a', 'b', 'c', '--all', '-C', '/srv/repo'], {
      from: 'user',
    })
    expect(loaded).toBe(1)
    expect(calls).toHaveLength(1)
    const [call] = calls
    expect(call?.operands).toEqual(['a', ['b', 'c']])
    expect(call?.options).toEqual({ all: true })
    expect([call?.io.cwd, call?.io.quiet, call?.io.json]).toEqual(['/srv/repo', true, false])
    expect(process.exitCode).toBe(0)
  })
})
