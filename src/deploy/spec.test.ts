import { describe, expect, test } from 'vitest'
import { DEFAULT_LIMITS, parseDeploymentSpec, parseModelSpec, problemLine } from './spec.ts'

describe('model.yaml', () => {
  test('a full entry reads back field by field', () => {
    const { spec, problems } = parseModelSpec(
      [
        'description: churn classifier',
        'framework: onnx',
        'files: [model.onnx]',
        'signature:',
        '  inputs: [{ name: x, dtype: float32, shape: [batch, 16] }]',
        '  outputs: [{ name: y, dtype: float32, shape: [batch, 2] }]',
        'metrics: { auc: 0.91 }',
        'lineage: { dataset: images__v1, parent: base }',
      ].join('\n'),
      'models/churn/model.yaml',
    )
    expect(problems).toEqual([])
    expect(spec?.signature?.inputs[0]).toEqual({
      name: 'x',
      dtype: 'float32',
      shape: ['batch', 16],
    })
    expect(spec?.metrics).toEqual({ auc: 0.91 })
    expect(spec?.lineage).toEqual({ dataset: 'images__v1', parent: 'base' })
  })

  test('each wrong field is one line naming the file and the field', () => {
    const { problems } = parseModelSpec(
      'framework: 3\nmetrics: { auc: high }\nsignature: { inputs: [{ name: x }] }\ncolour: red\n',
      'models/m/model.yaml',
    )
    expect(problems.map(problemLine)).toEqual([
      'warning: models/m/model.yaml: colour: unknown field (known: description, framework, files, signature, metrics, lineage)',
      'models/m/model.yaml: description: is required',
      'models/m/model.yaml: framework: must be a non-empty string',
      'models/m/model.yaml: signature.inputs[0]: must be { name: string, dtype: string, shape: [size or axis name, …] }',
      'models/m/model.yaml: metrics.auc: must be a number',
    ])
  })

  test('a file that is not a YAML mapping is one problem', () => {
    expect(parseModelSpec('- a\n- b\n', 'm.yaml').problems.map(problemLine)).toEqual([
      'm.yaml: (file): must be a YAML mapping',
    ])
    expect(parseModelSpec('a: [\n', 'm.yaml').problems[0]?.message).toMatch(/^not YAML/)
  })
})

describe('deployment.yaml', () => {
  test('defaults: limits, and one request at a time for python', () => {
    const node = parseDeploymentSpec('runtime: node\nentry: index.mjs\n', 'd.yaml')
    expect(node.problems).toEqual([])
    expect(node.spec).toEqual({
      runtime: 'node',
      entry: 'index.mjs',
      models: [],
      limits: DEFAULT_LIMITS,
    })
    const python = parseDeploymentSpec(
      'runtime: python\nentry: app.py\nfunction: predict\n',
      'd.yaml',
    )
    expect(python.spec?.limits.concurrency).toBe(1)
  })

  test('wrong runtime, missing entry, escaping entry, bad limits, onnx without one model', () => {
    const lines = (text: string) => parseDeploymentSpec(text, 'd.yaml').problems.map(problemLine)
    expect(lines('runtime: ruby\n')).toEqual([
      'd.yaml: runtime: must be one of node, python, onnx, got "ruby"',
    ])
    expect(lines('runtime: node\n')).toEqual(['d.yaml: entry: is required'])
    expect(lines('runtime: node\nentry: ../x.mjs\n')).toEqual([
      'd.yaml: entry: must be a path inside the deployment folder',
    ])
    expect(lines('runtime: node\nentry: a.mjs\nlimits: { timeoutMs: 0, memoryMb: 1.5 }\n')).toEqual(
      [
        'd.yaml: limits.timeoutMs: must be a whole number above 0',
        'd.yaml: limits.memoryMb: must be a whole number above 0',
      ],
    )
    expect(lines('runtime: onnx\nmodels: [a, b]\n')).toEqual([
      'd.yaml: models: an onnx deployment serves exactly one registry model',
    ])
  })
})
