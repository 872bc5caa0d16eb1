/**
 * What the real-agent e2e tests (test/e2e/claude-code.test.ts, codex.test.ts) share: a work
 * folder holding note.txt with a random secret word and a HOME for the agent, both removed at
 * teardown; and readers of the Converse requests the scripted model gets, to see which tools the
 * agent offered and what its tool calls returned.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BedrockCall } from './bedrock-server.js'

/** The folders and the secret of one agent test file. */
export interface AgentWorkspace {
  /** The agent's working folder. */
  work: string
  /** The agent's HOME (its config and state). */
  home: string
  /** `<work>/note.txt`: "The secret word is <secret>." */
  note: string
  /** A random word only the note holds: seen upstream only if a tool read the note. */
  secret: string
}

/** A fresh workspace named after `agent`, removed when `t` ends. */
export function agentWorkspace(t: { teardown(fn: () => void): void }, agent: string): AgentWorkspace {
  const secret = `pennyworth-${Math.random().toString(36).slice(2, 10)}`
  const work = mkdtempSync(join(tmpdir(), `pw-${agent}-work-`))
  const home = mkdtempSync(join(tmpdir(), `pw-${agent}-home-`))
  t.teardown(() => {
    rmSync(work, { recursive: true, force: true })
    rmSync(home, { recursive: true, force: true })
  })
  const note = join(work, 'note.txt')
  writeFileSync(note, `The secret word is ${secret}.\n`)
  return { work, home, note, secret }
}

/** The text of every toolResult in a Converse request. */
export const toolResults = (call: BedrockCall): string[] =>
  (call.body?.messages ?? []).flatMap(
    (m: { content?: Array<{ toolResult?: { content?: Array<{ text?: string }> } }> }) =>
      (m.content ?? []).flatMap((b) =>
        b.toolResult ? [(b.toolResult.content ?? []).map((c) => c.text ?? '').join('')] : [],
      ),
  )

/** The names of the tools a Converse request offers. */
export const toolNames = (call: BedrockCall): string[] =>
  (call.body?.toolConfig?.tools ?? []).flatMap((x: { toolSpec?: { name: string } }) =>
    x.toolSpec ? [x.toolSpec.name] : [],
  )

/** The secret word the tool results quote, or `nothing`. */
export const secretIn = (results: readonly string[]): string =>
  results.join(' ').match(/secret word is (\S+?)\./)?.[1] ?? 'nothing'
