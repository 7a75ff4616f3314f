import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { formatSize } from './sizes.ts'

export interface Machine {
  cpu: string
  cores: number
  /** CPU features that matter here (sha_ni: hardware SHA-256; aes; avx2; avx512f). */
  features: string[]
  ram: string
  kernel: string
  /** File system type and mount options of the work folder. */
  fileSystem: string
  versions: Record<string, string>
}

function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8')
    const flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(/\s+/) ?? []
    return ['sha_ni', 'aes', 'avx2', 'avx512f'].filter((f) => flags.includes(f))
  } catch {
    return []
  }
}

function fileSystemOf(path: string): string {
  const out = spawnSync('findmnt', ['-no', 'FSTYPE,OPTIONS', '-T', path], { encoding: 'utf8' })
  return out.status === 0 ? out.stdout.trim().replace(/\s+/, ' ') : 'unknown'
}

export function describeMachine(workDir: string, versions: Record<string, string>): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    features: cpuFlags(),
    ram: formatSize(totalmem()),
    kernel: `${type()} ${release()}`,
    fileSystem: fileSystemOf(workDir),
    versions,
  }
}

/** The 1, 5 and 15 minute load averages, e.g. "0.21 0.41 0.33". */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

export function machineLines(m: Machine): string[] {
  const versions = Object.entries(m.versions).map(([k, v]) => `${k} ${v}`)
  return [
    `CPU: ${m.cpu}, ${m.cores} cores${m.features.length ? ` (${m.features.join(', ')})` : ''}`,
    `RAM: ${m.ram}; kernel: ${m.kernel}; file system: ${m.fileSystem}`,
    `Versions: ${versions.join(', ')}`,
  ]
}
