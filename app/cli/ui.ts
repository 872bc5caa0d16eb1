/** Terminal output of the CLI: where it reads and writes, a bar chart, a spinner (only on a TTY), prompts. */
import { createInterface } from 'node:readline'
import { Readable, Writable } from 'node:stream'
import { CliError } from './errors.js'

/** Where the CLI reads and writes; tests pass their own. */
export interface Io {
  out(s: string): void
  err(s: string): void
  /** Is stdout a terminal (spinner, colours)? */
  tty: boolean
  /** Answers to prompts (stdin). */
  input: Readable
  /** Where prompts and the spinner are drawn (stderr). */
  prompt: Writable
  promptTty: boolean
}

export const stdio: Io = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  tty: process.stdout.isTTY === true,
  input: process.stdin,
  prompt: process.stderr,
  promptTty: process.stdin.isTTY === true && process.stderr.isTTY === true,
}

/**
 * An Io from the parts a caller gives (tests: `out` and `err`, perhaps `input`); the rest is a
 * non-terminal: no spinner, prompts read `input` line by line (none given: no answers).
 */
export function withDefaults(io: Pick<Io, 'out' | 'err'> & Partial<Io>): Io {
  return {
    tty: false,
    promptTty: false,
    input: Readable.from([]),
    prompt: new Writable({ write: (_chunk, _enc, done) => done() }),
    ...io,
  }
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

/** Horizontal bars, one per row, scaled to the largest value. */
export function barChart(rows: Array<{ label: string; value: number; text: string }>, width = 40): string {
  const max = Math.max(0, ...rows.map((r) => r.value))
  const labelWidth = Math.max(...rows.map((r) => r.label.length))
  return rows
    .map((r) => {
      const eighths = max > 0 ? Math.round((r.value / max) * width * 8) : 0
      const bar = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]
      return `${r.label.padEnd(labelWidth)} │${bar.padEnd(width)} ${r.text}`
    })
    .join('\n')
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** Runs `work` with a spinner on stderr while it lasts — only when stdout is a terminal. */
export async function withSpinner<T>(io: Io, text: string, work: () => Promise<T>): Promise<T> {
  if (!io.tty || !io.promptTty) return work()
  let i = 0
  const draw = () => io.prompt.write(`\r${FRAMES[i++ % FRAMES.length]} ${text}`)
  draw()
  const timer = setInterval(draw, 80)
  try {
    return await work()
  } finally {
    clearInterval(timer)
    io.prompt.write(`\r${' '.repeat(text.length + 2)}\r`)
  }
}

/**
 * Reads answers: on a terminal a prompt per question (secrets not echoed); otherwise one line per
 * question from piped stdin, in order (for scripts and tests).
 */
export class Prompter {
  private lines: string[] = []
  private waiting: Array<(line: string | undefined) => void> = []
  private ended = false
  private started = false
  private rl: ReturnType<typeof createInterface> | undefined

  constructor(private readonly io: Io) {}

  private start(): void {
    if (this.started) return
    this.started = true
    const rl = (this.rl = createInterface({ input: this.io.input, terminal: false }))
    rl.on('line', (line) => {
      const w = this.waiting.shift()
      if (w) w(line)
      else this.lines.push(line)
    })
    rl.on('close', () => {
      this.ended = true
      for (const w of this.waiting.splice(0)) w(undefined)
    })
  }

  private nextLine(): Promise<string | undefined> {
    this.start()
    if (this.lines.length) return Promise.resolve(this.lines.shift())
    if (this.ended) return Promise.resolve(undefined)
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  async ask(question: string, opts: { secret?: boolean } = {}): Promise<string> {
    if (this.io.promptTty) return this.askTty(question, opts.secret === true)
    const line = await this.nextLine()
    if (line === undefined) throw promptClosed(question)
    return line.trim()
  }

  private askTty(question: string, secret: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const input = this.io.input as NodeJS.ReadStream
      const out = this.io.prompt
      out.write(question)
      if (!secret) {
        const rl = createInterface({ input, output: out, terminal: true })
        rl.question('', (answer) => {
          rl.close()
          resolve(answer.trim())
        })
        return
      }
      let value = ''
      const raw = input.isRaw
      input.setRawMode?.(true)
      input.resume()
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            done()
            out.write('\n')
            resolve(value)
            return
          }
          if (ch === '\u0003') {
            done()
            out.write('\n')
            reject(promptClosed(question))
            return
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
          else value += ch
        }
      }
      const done = () => {
        input.off('data', onData)
        input.setRawMode?.(raw)
        input.pause()
      }
      input.on('data', onData)
    })
  }

  /** Lets the process exit even if stdin stays open. */
  close(): void {
    this.rl?.close()
  }
}

const promptClosed = (question: string) =>
  new CliError(`no answer to "${question.trim()}" (stdin closed); run in a terminal or pipe the answers`)
