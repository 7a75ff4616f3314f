export {
  type Account,
  addAccount,
  createRepo,
  findAccount,
  findRepo,
  grantRole,
  listAccounts,
  listRepos,
  type Repo,
  repoById,
  repoRole,
  requireAccount,
  setMember,
} from './accounts.ts'
export { repoJson, tokenJson } from './api.ts'
export {
  DEFAULT_LIMITS,
  type HubConfig,
  type HubFlags,
  type HubLimits,
  loadHubConfig,
  parseListen,
} from './config.ts'
export type { Db } from './db.ts'
export { fsckHub, type HubFsckReport, type HubIssue } from './fsck.ts'
export { checkPushedStubs, type GateResult, pushedCommits } from './gate.ts'
export { gcHub, type HubGcReport } from './gc.ts'
export { preReceive } from './hook.ts'
export { addRepo, type Hub, openHub } from './hub.ts'
export { type HubLog, jsonLog, linesPerTurn, redact, silentLog } from './log.ts'
export { type MirrorStatus, mirrorStatus, setMirror, syncMirror } from './mirror.ts'
export { checkName, parseRole, type Role } from './names.ts'
export { type RunningHub, type StartOptions, startHub } from './server.ts'
export { setPassword } from './session.ts'
export { type Caller, createToken, listTokens, revokeToken, type TokenInfo } from './tokens.ts'
