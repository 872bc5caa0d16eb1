/**
 * The programs as the real CLI loads them: each Pulumi.yaml turns off Pulumi's ts-node and runs
 * node with `--import=tsx` in the project's directory, importing `main`. Here a fresh
 * `node --import=tsx` process per program, started in that directory, loads it (under mocks,
 * Pulumi.prod.yaml's config) the same way.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { ROOT } from '../../infra/config.js'
import { PROGRAMS, programDir, projectName } from '../../infra/stacks.js'

const projects = Object.fromEntries(
  PROGRAMS.map((p) => [p, parse(readFileSync(join(ROOT, programDir(p), 'Pulumi.yaml'), 'utf8'))]),
)
const mains = { identity: 'index.ts', data: 'index.ts', edge: 'infra/edge/index.ts' }

for (const program of PROGRAMS) {
  const project = projects[program]
  t.test(
    `${programDir(program)}/Pulumi.yaml: ${projectName(program)}, nodejs, no built-in ts-node, tsx loader`,
    async (t) => {
      t.equal(project.name, projectName(program))
      t.equal(project.runtime.name, 'nodejs')
      t.equal(project.runtime.options.typescript, false)
      t.equal(project.runtime.options.nodeargs, '--import=tsx')
      t.equal(project.main, mains[program])
      t.ok(existsSync(join(ROOT, programDir(program), project.main)))
      // One stack file per environment for all three: the repository root's Pulumi.<env>.yaml.
      t.equal(
        join(ROOT, programDir(program), project.stackConfigDir ?? '.'),
        ROOT,
        "stack files are the root's Pulumi.<env>.yaml",
      )
    },
  )
}

t.test('ESM: the language host import()s main', async (t) => {
  t.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).type, 'module')
})

const expected = { identity: 10, data: 7, edge: 37 }
for (const program of PROGRAMS) {
  t.test(
    `node --import=tsx in ${programDir(program)} loads the ${program} program and registers its resources`,
    async (t) => {
      const script = [
        `const { loadProgram } = await import(${JSON.stringify(join(ROOT, 'infra/testing/programs.ts'))})`,
        // edge's stack references are answered with minimal, consistent outputs
        `const outputs = { awsRegion: 'us-west-2', namePrefix: 'pennyworth-prod', ` +
          `userPoolId: 'us-west-2_X', userPoolArn: ` +
          `'arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_X', cliClientId: ` +
          `'c', consoleClientId: 'cc', mcpOAuthClientId: 'mc', loginUrl: 'https://x.auth.us-west-2.amazoncognito.com', workloadBoundaryArn: 'arn:aws:iam::123456789012:policy/b', tableNames: ` +
          `Object.fromEntries(['keys','usage','rateLimits','audit','responses','oauth'].map((k) => [k, ` +
          `'t-' + k])), tableArns: ` +
          `Object.fromEntries(['keys','usage','rateLimits','audit','responses','oauth'].map((k) => [k, ` +
          `'arn:aws:dynamodb:us-west-2:123456789012:table/t-' + k])) }`,
        `const { mocks } = await loadProgram(${JSON.stringify(program)}, { stackOutputs: { ` +
          `'organization/pennyworth-identity/prod': outputs, ` +
          `'organization/pennyworth-data/prod': outputs } })`,
        'console.log(JSON.stringify({ resources: mocks.resources.length, unknownCalls: ' +
          'mocks.unknownCalls, unknownStackReferences: mocks.unknownStackReferences }))',
        'process.exit(0)',
      ].join('\n')
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...projects[program].runtime.options.nodeargs.split(/\s+/), '--input-type=module', '-e', script],
        {
          cwd: join(ROOT, programDir(program)),
          env: { PATH: process.env.PATH },
          timeout: 60_000,
        },
      )
      const result = JSON.parse(stdout.trim().split('\n').pop()!)
      t.ok(result.resources >= expected[program], `${result.resources} resources`)
      t.same(result.unknownCalls, [])
      t.same(result.unknownStackReferences, [])
    },
  )
}

t.test('@pulumi/awsx is not a dependency and nothing imports it (infra/README.md says why)', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  t.notOk('@pulumi/awsx' in { ...pkg.dependencies, ...pkg.devDependencies })
  const { readdirSync } = await import('node:fs')
  const files = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    )
  const sources = ['infra', 'scripts', 'app'].flatMap(files)
  t.ok(sources.length > 50)
  t.same(
    sources.filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('@pulumi/awsx')),
    [],
  )
})
