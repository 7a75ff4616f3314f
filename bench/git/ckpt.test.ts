import { describe, expect, it } from 'vitest'
import { parseCommandList, STUB_SIGNATURE, stubTensorLines } from './ckpt.ts'

describe('command list', () => {
  const help = `Usage: mlvc [options] [command]

Options:
  -V, --version                      output the version number
  -h, --help                         display help for command

Commands:
  init                               create .mlvc/ and the store (inside Git the
                                     store lives in .git/mlvc)
  put [options] <file...>            store files; print the id of each
  ls-files [rev]                     files stored by mlvc in a commit
  resolve [options] <path>           finish a conflicted checkpoint merge
  help [command]                     display help for command
`

  it('reads the names under Commands:, not options or wrapped descriptions', () => {
    expect(parseCommandList(help)).toEqual(['init', 'put', 'ls-files', 'resolve', 'help'])
    expect(parseCommandList('Usage: x\n')).toEqual([])
  })
})

describe('stub tensor lines', () => {
  it('are the tensor lines of an mlvc stub, and nothing for anything else', () => {
    const stub = `${STUB_SIGNATURE}: the data lives in the mlvc store\nsize: 10\nformat: safetensors\ntensor: a F32 [2] id mean=0\ntensor: b F32 [3] id mean=1\n`
    expect(stubTensorLines(stub)).toHaveLength(2)
    expect(stubTensorLines('version https://git-lfs.github.com/spec/v1\n')).toBeUndefined()
  })
})
