/**
 * Runs an agent CLI (Claude Code, Codex) to its end as a child process, stdin closed (`codex
 * exec` reads stdin when it is not a terminal and would wait), output collected, and killed
 * if it outlives `timeoutMs` so a stuck agent cannot hang the suite.
 */
import { spawn, type SpawnOptions } from 'node:child_process'

export interface AgentRun {
  code: number | null
  stdout: string
  stderr: string
}

export function runAgent(
  args: string[],
  options: Pick<SpawnOptions, 'cwd' | 'env'>,
  timeoutMs = 90_000,
): Promise<AgentRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => {
      stdout += d
    })
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
