import { describe, expect, test } from 'vitest'
import { problemLine } from './spec.ts'
import type { TreeSource } from './tree.ts'
import { hasErrors, validateTree } from './validate.ts'

const STUB =
  '# mlvc stub v1: the data lives in the mlvc store; run `mlvc pull` if you see this in a work tree\n'

/** A tree in memory: files whose text starts with the stub signature count as stored by mlvc. */
function memoryTree(files: Record<string, string>, tags: string[] = []): TreeSource {
  return {
    label: 'test',
    files: async () => Object.keys(files).map((path) => ({ path })),
    read: async (path) => (files[path] === undefined ? undefined : Buffer.from(files[path])),
    tracked: async (paths) => new Set(paths.filter((p) => files[p]?.startsWith(STUB))),
    contentId: async () => undefined,
    hasTag: async (tag) => tags.includes(tag),
  }
}

const GOOD = {
  'README.md': 'hi',
  'models/clf/model.yaml':
    'description: a classifier\nframework: onnx\nlineage: { dataset: images__v1 }\n',
  'models/clf/model.onnx': STUB,
  'deployments/api/deployment.yaml': 'runtime: node\nentry: index.mjs\nmodels: [clf]\n',
  'deployments/api/index.mjs': 'export default (x) => x\n',
  'deployments/api/package.json': '{}',
}

describe('validate', () => {
  test('a good layout has no problems', async () => {
    const report = await validateTree(memoryTree(GOOD, ['images__v1']))
    expect(report.problems).toEqual([])
    expect(report).toMatchObject({ models: ['clf'], deployments: ['api'], strict: false })
  })

  test('every problem of a bad layout, one line each, errors first', async () => {
    const report = await validateTree(
      memoryTree({
        ...GOOD,
        'models/clf/model.onnx': 'raw bytes',
        'models/empty/notes.txt': STUB,
        'deployments/api/deployment.yaml': 'runtime: node\nentry: main.mjs\nmodels: [clf, gone]\n',
        'deployments/api/package.json': '{ nope',
        'deployments/web/index.html': '',
        'scratch/a.txt': '',
        '.github/workflows/ci.yml': '',
      }),
    )
    expect(hasErrors(report)).toBe(true)
    expect(report.problems.map(problemLine)).toEqual([
      'deployments/api/deployment.yaml: entry: deployments/api/main.mjs does not exist',
      'deployments/api/deployment.yaml: models: no registry model gone (models/gone/model.yaml)',
      'deployments/api/package.json: (file): is not JSON',
      'deployments/web/deployment.yaml: (file): missing: every folder under deployments/ needs a deployment.yaml',
      'models/clf/model.onnx: (file): is not stored by mlvc (committed raw): run `mlvc track models/clf/model.onnx`, then git add it again',
      'models/clf/model.yaml: lineage.dataset: no tag images__v1 in the repository',
      'models/empty/model.yaml: (file): missing: every folder under models/ is a registry entry with a model.yaml',
      'warning: scratch/: (folder): not part of the layout (models, deployments, dataset, datasets, labels, model, experiments); refused with strict: true',
    ])
  })

  test('strict: true in .mlvc/config.yaml makes an unknown folder an error', async () => {
    const loose = await validateTree(memoryTree({ ...GOOD, 'scratch/a.txt': '' }, ['images__v1']))
    expect(hasErrors(loose)).toBe(false)
    const strict = await validateTree(
      memoryTree({ ...GOOD, 'scratch/a.txt': '', '.mlvc/config.yaml': 'strict: true\n' }, [
        'images__v1',
      ]),
    )
    expect(strict.problems.map(problemLine)).toEqual([
      'scratch/: (folder): not part of the layout (models, deployments, dataset, datasets, labels, model, experiments)',
    ])
  })

  test('an onnx deployment needs exactly one .onnx file in its model', async () => {
    const report = await validateTree(
      memoryTree(
        {
          ...GOOD,
          'models/clf/extra.onnx': STUB,
          'deployments/api/deployment.yaml': 'runtime: onnx\nmodels: [clf]\n',
        },
        ['images__v1'],
      ),
    )
    expect(report.problems.map(problemLine)).toEqual([
      'deployments/api/deployment.yaml: models: models/clf/ must hold exactly one .onnx file for the onnx runtime',
    ])
  })
})
