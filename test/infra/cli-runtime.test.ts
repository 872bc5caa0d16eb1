/**
 * The program as the real CLI loads it: Pulumi.yaml turns off Pulumi's ts-node and runs node
 * with `--import=tsx`, importing `main`. Here a fresh `node --import=tsx` process loads
 * infra/index.ts (under mocks, Pulumi.prod.yaml's config) the same way.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { ROOT } from '../../infra/config.js'

const project = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8'))

t.test('Pulumi.yaml: nodejs, no built-in ts-node, tsx loader, infra/index.ts', async (t) => {
  t.equal(project.name, 'pennyworth')
  t.equal(project.runtime.name, 'nodejs')
  t.equal(project.runtime.options.typescript, false)
  t.equal(project.runtime.options.nodeargs, '--import=tsx')
  t.equal(project.main, 'infra/index.ts')
  t.ok(existsSync(join(ROOT, project.main)))
  t.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).type, 'module', 'ESM: the language host import()s main')
})

t.test('node --import=tsx loads the program and registers its resources', async (t) => {
  const script = [
    "const { loadProdProgram } = await import('./infra/testing/prod-program.ts')",
    'const { mocks } = await loadProdProgram()',
    'console.log(JSON.stringify({ resources: mocks.resources.length, unknownCalls: mocks.unknownCalls }))',
  ].join('\n')
  const { stdout } = await promisify(execFile)(process.execPath, [...project.runtime.options.nodeargs.split(/\s+/), '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    timeout: 60_000,
  })
  const result = JSON.parse(stdout.trim().split('\n').pop()!)
  t.ok(result.resources > 40, `${result.resources} resources`)
  t.same(result.unknownCalls, [])
})
