import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { conflictHint } from './merge-driver.ts'

describe('the conflict hint', () => {
  it('quotes the path for a shell, whatever it holds', () => {
    const path = "it's $(echo injected) `x`.safetensors"
    const hint = conflictHint(path)
    const command = /git add (.*)$/.exec(hint)?.[1] ?? ''
    // What a shell makes of the suggested argument is the path itself, and nothing runs.
    const echoed = spawnSync('sh', ['-c', `printf %s ${command}`], { encoding: 'utf8' })
    expect(echoed.stdout).toBe(path)
  })
})
