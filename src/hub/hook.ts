import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { commitTree, problemLine, validateTree } from '../deploy/index.ts'
import { DEFAULT_LIMITS, type HubConfig } from './config.ts'
import { checkPushedStubs, type GateResult, refusal } from './gate.ts'
import { hubStorage } from './storage.ts'

/** An attributes file marking every path tracked (see checkPushedStubs). */
export async function writeAllTracked(dir: string): Promise<string> {
  const path = join(dir, 'all-tracked.gitattributes')
  await writeFile(path, '* filter=mlvc\n')
  return path
}

/**
 * Makes the git commands this process runs count every path as tracked (a bare repository has no
 * work tree whose attributes would say): the stub scan then reads every blob small enough to be
 * a stub.
 */
export function trackEverything(data: string): void {
  const count = Number(process.env.GIT_CONFIG_COUNT ?? 0) || 0
  process.env.GIT_CONFIG_COUNT = String(count + 1)
  process.env[`GIT_CONFIG_KEY_${count}`] = 'core.attributesFile'
  process.env[`GIT_CONFIG_VALUE_${count}`] = join(data, 'hooks', 'all-tracked.gitattributes')
}

/**
 * `mlvc hub hook pre-receive`, run by Git in a repository's bare folder with the hub's environment
 * (git-http.ts: MLVC_HUB_DATA, MLVC_HUB_REPO, MLVC_HUB_OBJECTS). Throws the refusal when objects
 * are missing; git then rejects the whole push.
 */
export async function preReceive(
  input: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GateResult> {
  const data = env.MLVC_HUB_DATA
  const repoId = env.MLVC_HUB_REPO
  if (!data || !repoId) {
    throw new MlvcError(
      'USAGE',
      'mlvc hub hook runs only inside the hub (MLVC_HUB_DATA and MLVC_HUB_REPO are not set)',
    )
  }
  const config: HubConfig = {
    data,
    host: '',
    port: 0,
    database: undefined,
    objects: env.MLVC_HUB_OBJECTS
      ? (JSON.parse(env.MLVC_HUB_OBJECTS) as HubConfig['objects'])
      : undefined,
    mirrorIntervalMs: 0,
    limits: DEFAULT_LIMITS,
  }
  trackEverything(data)
  const gitDir = env.GIT_DIR ? env.GIT_DIR : process.cwd()
  const result = await checkPushedStubs(gitDir, input, hubStorage(config).remote(repoId))
  if (result.missing.length > 0) throw refusal(result.missing, env.MLVC_HUB_REPO_NAME ?? repoId)
  await validatePushed(gitDir, input)
  return result
}

/**
 * `mlvc validate` on every pushed branch head: a branch whose layout has errors refuses the whole
 * push, with the same lines `mlvc validate` prints.
 */
export async function validatePushed(gitDir: string, input: string): Promise<void> {
  const lines: string[] = []
  for (const line of input.split('\n')) {
    const [, next = '', ref = ''] = line.trim().split(' ')
    if (!ref.startsWith('refs/heads/') || /^0+$/.test(next)) continue
    const branch = ref.slice('refs/heads/'.length)
    const report = await validateTree(commitTree(gitDir, next, branch))
    const errors = report.problems.filter((p) => p.severity === 'error')
    if (errors.length > 0) lines.push(`${branch}:`)
    for (const p of errors) lines.push(`  ${problemLine(p)}`)
  }
  if (lines.length > 0) {
    throw new MlvcError(
      'BAD_SPEC',
      `push refused: mlvc validate found errors\n${lines.join('\n')}`,
      {
        hint: 'run mlvc validate, fix what it says, commit and push again',
      },
    )
  }
}
