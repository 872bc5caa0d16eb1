/**
 * `npm run deploy` offline: argument handling, the order identity → data → edge, preview vs up,
 * stopping at the first failure with a clear message, and the guard against an unmigrated
 * single stack — with a recording stack factory instead of the Automation API (which needs the
 * Pulumi CLI and AWS). The CLI entry itself is run for what it does before touching Pulumi.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../infra/config.js'
import {
  DeployError,
  UsageError,
  deployEnvironment,
  parseDeployArgs,
  stackTargets,
  type DeployStack,
  type StackFactory,
  type StackTarget,
} from '../../infra/deploy.js'
import { main } from '../../scripts/deploy.js'

interface Recorder extends StackFactory {
  calls: string[]
}

function fakeFactory(
  options: { failAt?: string; failWith?: string; result?: string; edgeUrns?: string[]; deployed?: boolean } = {},
): Recorder {
  const calls: string[] = []
  return {
    calls,
    async urns(target: StackTarget) {
      calls.push(`urns ${target.fullyQualifiedName}`)
      if (target.program === 'edge') return options.edgeUrns
      return options.deployed === false
        ? undefined
        : [`urn:pulumi:${target.env}::${target.project}::pulumi:pulumi:Stack::x`]
    },
    async open(target: StackTarget): Promise<DeployStack> {
      calls.push(`open ${target.fullyQualifiedName} in ${target.workDir}`)
      const act = async (verb: string) => {
        calls.push(`${verb} ${target.program}`)
        if (options.failAt === `${verb} ${target.program}`)
          throw new Error(options.failWith ?? `error: ${target.program} broke\n  AccessDenied: not authorized`)
      }
      return {
        preview: async () => {
          await act('preview')
          return { changeSummary: { create: 2 } }
        },
        up: async () => {
          await act('up')
          return { summary: { result: options.result ?? 'succeeded', resourceChanges: { same: 3, update: 1 } } }
        },
      }
    },
  }
}

t.test('arguments', async (t) => {
  t.same(parseDeployArgs(['--env', 'prod']), { env: 'prod', preview: false })
  t.same(parseDeployArgs(['--preview', '--env=staging']), { env: 'staging', preview: true })
  t.equal(parseDeployArgs(['--help']), 'help')
  t.ok(
    (() => {
      try {
        parseDeployArgs([])
      } catch (e) {
        return e instanceof UsageError
      }
      return false
    })(),
    'a UsageError',
  )
  t.throws(() => parseDeployArgs([]), /--env is required/)
  t.throws(() => parseDeployArgs(['--env']), /--env needs a value/)
  t.throws(() => parseDeployArgs(['--env', '--preview']), /--env needs a value/)
  t.throws(() => parseDeployArgs(['--env', 'Prod']), /environment "Prod" is not valid/)
  t.throws(() => parseDeployArgs(['--env', 'prod', '--yes']), /unknown argument "--yes"/)
})

t.test('targets follow the naming rule', async (t) => {
  t.same(
    stackTargets('prod').map((x) => [x.program, x.project, x.fullyQualifiedName, x.workDir]),
    [
      ['identity', 'pennyworth-identity', 'organization/pennyworth-identity/prod', 'infra/identity'],
      ['data', 'pennyworth-data', 'organization/pennyworth-data/prod', 'infra/data'],
      ['edge', 'pennyworth', 'organization/pennyworth/prod', '.'],
    ],
  )
})

t.test('up: identity, then data, then edge', async (t) => {
  const factory = fakeFactory()
  const lines: string[] = []
  const results = await deployEnvironment({ env: 'prod', preview: false }, factory, (l) => lines.push(l))
  t.same(factory.calls, [
    'urns organization/pennyworth/prod',
    'open organization/pennyworth-identity/prod in infra/identity',
    'up identity',
    'open organization/pennyworth-data/prod in infra/data',
    'up data',
    'open organization/pennyworth/prod in .',
    'up edge',
  ])
  t.same(
    results.map((r) => r.program),
    ['identity', 'data', 'edge'],
  )
  t.same(results[0]!.changes, { same: 3, update: 1 })
  t.match(lines[0], /^\[1\/3\] identity: pulumi up organization\/pennyworth-identity\/prod \(infra\/identity\)$/)
  t.match(lines[1], /identity: up done \(same 3, update 1\)/)
})

t.test('--preview previews the three, changes nothing', async (t) => {
  const factory = fakeFactory()
  await deployEnvironment({ env: 'staging', preview: true }, factory)
  t.same(
    factory.calls.filter((c) => !c.startsWith('open') && !c.startsWith('urns')),
    ['preview identity', 'preview data', 'preview edge'],
  )
  t.ok(factory.calls.includes('open organization/pennyworth-data/staging in infra/data'))
})

t.test('--preview of a first install: edge is skipped with the reason, not failed', async (t) => {
  const factory = fakeFactory({ deployed: false })
  const lines: string[] = []
  const results = await deployEnvironment({ env: 'prod', preview: true }, factory, (l) => lines.push(l))
  t.same(
    results.map((r) => [r.program, r.skipped]),
    [
      ['identity', undefined],
      ['data', undefined],
      ['edge', 'needs identity and data deployed first (its stack references read their outputs)'],
    ],
  )
  t.notOk(factory.calls.includes('preview edge'))
  t.match(lines.at(-1), /edge: preview skipped: needs identity and data deployed first/)
  // `up` never skips: identity and data are deployed before edge runs.
  const up = fakeFactory({ deployed: false })
  await deployEnvironment({ env: 'prod', preview: false }, up)
  t.ok(up.calls.includes('up edge'))
})

t.test('stops at the first failure and says what ran and what did not', async (t) => {
  const factory = fakeFactory({ failAt: 'up data' })
  const err = await deployEnvironment({ env: 'prod', preview: false }, factory).catch((e) => e)
  t.ok(err instanceof DeployError)
  t.equal(err.program, 'data')
  t.same(
    err.completed.map((r: { program: string }) => r.program),
    ['identity'],
  )
  t.match(err.message, /^data \(organization\/pennyworth-data\/prod\) failed during pulumi up: stopped\./)
  t.match(err.message, /AccessDenied: not authorized/, 'the cause is in the message')
  t.match(err.message, /Done before it: identity\./)
  t.match(err.message, /Not run: edge\./)
  t.notOk(
    factory.calls.some((c) => c.includes('edge') && !c.startsWith('urns')),
    'edge never opened',
  )
})

t.test('a failing first stack: nothing deployed, the rest named', async (t) => {
  const err = await deployEnvironment(
    { env: 'prod', preview: true },
    fakeFactory({ failAt: 'preview identity' }),
  ).catch((e) => e)
  t.match(err.message, /identity .* failed during pulumi preview/)
  t.match(err.message, /Nothing was deployed before it\./)
  t.match(err.message, /Not run: data, edge\./)
})

t.test('an update that ends other than "succeeded" is a failure', async (t) => {
  const err = await deployEnvironment({ env: 'prod', preview: false }, fakeFactory({ result: 'failed' })).catch(
    (e) => e,
  )
  t.equal(err.program, 'identity')
  t.match(err.message, /update ended "failed"/)
})

t.test('an unmigrated single stack stops everything before identity could create a second user pool', async (t) => {
  const legacy = (
    JSON.parse(readFileSync(new URL('../fixtures/infra/single-stack-urns.json', import.meta.url), 'utf8')) as {
      urns: string[]
    }
  ).urns
  const factory = fakeFactory({ edgeUrns: legacy })
  const err = await deployEnvironment({ env: 'prod', preview: true }, factory).catch((e) => e)
  t.ok(err instanceof DeployError)
  t.match(err.message, /organization\/pennyworth\/prod still holds 14 identity\/data resources/)
  t.match(
    err.message,
    /pulumi state move --source organization\/pennyworth\/prod --dest organization\/pennyworth-identity\/prod/,
  )
  t.same(factory.calls, ['urns organization/pennyworth/prod'], 'no stack opened')
  // Once moved, the edge stack holds only edge resources and the deploy goes ahead.
  const migrated = fakeFactory({ edgeUrns: legacy.filter((u) => u.includes('pennyworth:infra:Edge')) })
  t.equal((await deployEnvironment({ env: 'prod', preview: true }, migrated)).length, 3)
})

t.test('the CLI: usage errors exit 2 before touching Pulumi', async (t) => {
  const out: string[] = []
  const err: string[] = []
  t.equal(
    await main(
      [],
      (l) => out.push(l),
      (l) => err.push(l),
    ),
    2,
  )
  t.match(err.join('\n'), /deploy: --env is required[\s\S]*usage: npm run deploy -- --env <environment> \[--preview\]/)
  t.equal(
    await main(
      ['--help'],
      (l) => out.push(l),
      (l) => err.push(l),
    ),
    0,
  )
  t.match(out.join('\n'), /identity, data and edge stacks/)
  err.length = 0
  t.equal(
    await main(
      ['--env', 'nosuchenv'],
      (l) => out.push(l),
      (l) => err.push(l),
    ),
    2,
  )
  t.match(err.join('\n'), /Pulumi\.nosuchenv\.yaml not found/)
})

t.test('npm run deploy runs scripts/deploy.ts', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  t.equal(pkg.scripts.deploy, 'tsx scripts/deploy.ts')
  const run = await promisify(execFile)(process.execPath, ['--import=tsx', 'scripts/deploy.ts', '--env', 'Bad'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
  }).catch((e) => e)
  t.equal(run.code, 2)
  t.match(run.stderr, /environment "Bad" is not valid/)
})
