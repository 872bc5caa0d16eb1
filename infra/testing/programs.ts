/**
 * Runs the three programs under mocks with `Pulumi.<env>.yaml`'s config (the one file they
 * share), for the infra tests. Only keys the file leaves to defaults or secrets are added (a stub
 * bundle directory with an entry, a chunk and maps; an alarm e-mail); nothing the file sets is
 * overridden. `loadEnvironment` runs identity and data first and feeds their exports to edge's
 * stack references, as a real first install would.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../config.js'
import { projectName, stackName, type ProgramName } from '../stacks.js'
import { setupMocks, valueOf, type MockHarness } from './mocks.js'

export interface LoadedProgram {
  program: ProgramName
  mocks: MockHarness
  /** The program module's exports as the stack would record them (outputs resolved). */
  outputs: Record<string, unknown>
  /** The stack file's `config:` as written. */
  config: Record<string, unknown>
}

export interface LoadedEnvironment {
  identity: LoadedProgram
  data: LoadedProgram
  edge: LoadedProgram
}

export function readStackFile(env: string): Record<string, unknown> {
  return (parse(readFileSync(join(ROOT, `Pulumi.${env}.yaml`), 'utf8')) as { config: Record<string, unknown> }).config
}

const modules: Record<ProgramName, () => Promise<Record<string, unknown>>> = {
  identity: () => import('../identity/index.js'),
  data: () => import('../data/index.js'),
  edge: () => import('../edge/index.js'),
}

/** A stub of `npm run build`'s output: the entry, a chunk it imports and their maps. */
export function stubBundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pennyworth-bundle-'))
  mkdirSync(join(dir, 'chunks'))
  writeFileSync(
    join(dir, 'index.mjs'),
    "import { ok } from './chunks/stub-AAAA.mjs'\nexport const handler = async () => ({ statusCode: ok })\n",
  )
  writeFileSync(join(dir, 'index.mjs.map'), '{"version":3,"sources":[],"mappings":""}\n')
  writeFileSync(join(dir, 'chunks', 'stub-AAAA.mjs'), 'export const ok = 200\n')
  writeFileSync(join(dir, 'chunks', 'stub-AAAA.mjs.map'), '{"version":3,"sources":[],"mappings":""}\n')
  return dir
}

/**
 * Runs one program under mocks. Each program module can run once per process (ES modules are
 * cached), so a test file loads each program at most once.
 */
export async function loadProgram(
  program: ProgramName,
  options: { env?: string; stackOutputs?: Record<string, Record<string, unknown>> } = {},
): Promise<LoadedProgram> {
  const env = options.env ?? 'prod'
  const config = readStackFile(env)
  const overlay = { 'pennyworth:lambdaBundleDir': stubBundleDir(), 'pennyworth:alarmEmail': 'ops@example.com' }
  for (const key of Object.keys(overlay))
    if (key in config) throw new Error(`test overlay would override ${key} from Pulumi.${env}.yaml`)
  const mocks = await setupMocks({
    project: projectName(program),
    stack: env,
    region: String(config['aws:region']),
    config: { ...config, ...overlay },
    secretKeys: ['pennyworth:alarmEmail'],
    stackOutputs: options.stackOutputs,
  })
  const exports = await modules[program]()
  const outputs: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(exports)) outputs[key] = await valueOf(value as never)
  // Generous quiet period: three programs run back to back in one process on a busy machine.
  await mocks.settle(250)
  return { program, mocks, outputs, config }
}

/** identity, then data, then edge with stack references answered by the first two's outputs. */
export async function loadEnvironment(env = 'prod'): Promise<LoadedEnvironment> {
  const identity = await loadProgram('identity', { env })
  const data = await loadProgram('data', { env })
  const edge = await loadProgram('edge', {
    env,
    stackOutputs: { [stackName('identity', env)]: identity.outputs, [stackName('data', env)]: data.outputs },
  })
  return { identity, data, edge }
}
