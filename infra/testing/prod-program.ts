/**
 * Runs the whole program (infra/index.ts) under mocks with Pulumi.prod.yaml's config, for the
 * infra tests. Only keys the prod file leaves to defaults or secrets are added (a stub bundle
 * directory with an entry, a chunk and maps; an alarm e-mail); nothing the file sets is overridden.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../config.js'
import { setupMocks, valueOf, type MockHarness } from './mocks.js'

export interface ProdProgram {
  mocks: MockHarness
  /** The program module's exports. */
  program: typeof import('../index.js')
  /** Pulumi.prod.yaml `config:` as written. */
  prod: Record<string, unknown>
}

export function readStackFile(stack: string): Record<string, unknown> {
  return (parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> }).config
}

export async function loadProdProgram(): Promise<ProdProgram> {
  const prod = readStackFile('prod')
  // A stub of `npm run build`'s output: the entry, a chunk it imports and their maps.
  const bundleDir = mkdtempSync(join(tmpdir(), 'pennyworth-bundle-'))
  mkdirSync(join(bundleDir, 'chunks'))
  writeFileSync(join(bundleDir, 'index.mjs'), "import { ok } from './chunks/stub-AAAA.mjs'\nexport const handler = async () => ({ statusCode: ok })\n")
  writeFileSync(join(bundleDir, 'index.mjs.map'), '{"version":3,"sources":[],"mappings":""}\n')
  writeFileSync(join(bundleDir, 'chunks', 'stub-AAAA.mjs'), 'export const ok = 200\n')
  writeFileSync(join(bundleDir, 'chunks', 'stub-AAAA.mjs.map'), '{"version":3,"sources":[],"mappings":""}\n')
  const overlay = { 'pennyworth:lambdaBundleDir': bundleDir, 'pennyworth:alarmEmail': 'ops@example.com' }
  for (const key of Object.keys(overlay)) if (key in prod) throw new Error(`test overlay would override ${key} from Pulumi.prod.yaml`)
  const mocks = await setupMocks({ region: String(prod['aws:region']), config: { ...prod, ...overlay }, secretKeys: ['pennyworth:alarmEmail'] })
  const program = await import('../index.js')
  await valueOf(program.apiUrl)
  await mocks.settle()
  return { mocks, program, prod }
}
