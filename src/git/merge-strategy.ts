import { parseStrategy, type StrategySpec } from '../checkpoint/index.ts'
import { globToRegExp, type LoadedConfig, readSetting, settingSource } from '../core/index.ts'
import { git } from './exec.ts'

/** A strategy chosen for one merge (a command-line flag, an environment variable), and where from. */
export interface StrategyOverride {
  /** As written: `average`, `ties:density=0.2`. */
  text: string
  /** Named in errors: `--strategy`, `MLVC_MERGE_STRATEGY`. */
  source: string
}

export interface StrategyRules {
  workTree: string
  /** The repository's configuration (`merge.tensors`, `merge.strategy`). */
  config: LoadedConfig
  /** The file being merged, relative to the work tree (its attributes apply). */
  path: string
  override?: StrategyOverride | undefined
}

/** The `mlvc-merge` attribute of a path, when it has a value. */
async function attributeOf(workTree: string, path: string): Promise<string | undefined> {
  const out = await git(['check-attr', 'mlvc-merge', '--', path], { cwd: workTree })
  const value = out.trim().split(': ').at(-1)
  const unset = value === undefined || ['unspecified', 'unset', 'set', ''].includes(value)
  return unset ? undefined : value
}

/**
 * How a tensor changed differently on both sides is merged, most specific rule first:
 *  1. `merge.tensors` in config — tensor-name patterns (`"*.bias": ours`);
 *  2. this merge's choice (`override`);
 *  3. the path's `mlvc-merge` attribute in .gitattributes (`*.safetensors mlvc-merge=average`);
 *  4. `merge.strategy` in config;
 *  5. `fail`: a conflict.
 * Throws USAGE naming the source of a strategy that does not parse.
 */
export async function strategyChooser(
  rules: StrategyRules,
): Promise<(tensor: string) => StrategySpec> {
  const { config, override, path } = rules
  const patterns = readSetting(config, 'merge.tensors').map(
    ([glob, text]): [RegExp, StrategySpec] => [
      globToRegExp(glob),
      parseStrategy(text, settingSource(config, ['merge', 'tensors', glob])),
    ],
  )
  const attr = await attributeOf(rules.workTree, path)
  const fallback = override
    ? parseStrategy(override.text, override.source)
    : attr
      ? parseStrategy(attr, `mlvc-merge attribute of ${path}`)
      : parseStrategy(
          readSetting(config, 'merge.strategy'),
          settingSource(config, ['merge', 'strategy']),
        )
  return (tensor) => patterns.find(([re]) => re.test(tensor))?.[1] ?? fallback
}
