/** The naming rule (infra/stacks.ts) and the config reader's checks of it. */
import t from 'tap'
import { readStackConfig } from '../../infra/config.js'
import {
  PROGRAMS,
  assertEnvironment,
  defaultNamePrefix,
  programDir,
  projectName,
  stackName,
  stateKeys,
} from '../../infra/stacks.js'
import { setupMocks } from '../../infra/testing/mocks.js'
import { readStackFile } from '../../infra/testing/programs.js'

t.test('one environment = three stacks of the same name in three projects', async (t) => {
  t.same(PROGRAMS, ['identity', 'data', 'edge'], 'deploy order')
  t.same(PROGRAMS.map(projectName), ['pennyworth-identity', 'pennyworth-data', 'pennyworth'])
  t.same(PROGRAMS.map(programDir), ['infra/identity', 'infra/data', '.'])
  t.same(
    PROGRAMS.map((p) => stackName(p, 'staging')),
    [
      'organization/pennyworth-identity/staging',
      'organization/pennyworth-data/staging',
      'organization/pennyworth/staging',
    ],
  )
  t.equal(stackName('data', 'prod', 'acme'), 'acme/pennyworth-data/prod', 'Pulumi Cloud organizations')
  t.equal(defaultNamePrefix('prod'), 'pennyworth-prod', 'the same physical prefix in every program')
})

t.test('environment names', async (t) => {
  for (const ok of ['prod', 'staging', 'eu-2']) t.equal(assertEnvironment(ok), ok)
  for (const bad of ['', 'Prod', '2prod', 'a/b', 'prod.x', 'x'.repeat(32)])
    t.throws(() => assertEnvironment(bad), /is not valid/, JSON.stringify(bad))
})

t.test('state keys of the project-scoped self-managed backend', async (t) => {
  t.same(stateKeys('edge', 'prod'), {
    checkpoint: '.pulumi/stacks/pennyworth/prod.json',
    prefixes: [
      '.pulumi/history/pennyworth/prod/',
      '.pulumi/backups/pennyworth/prod/',
      '.pulumi/locks/pennyworth/prod/',
    ],
  })
  t.equal(stateKeys('identity', 'prod').checkpoint, '.pulumi/stacks/pennyworth-identity/prod.json')
})

t.test('a program refuses to run under another project; all share the pennyworth: namespace and prefix', async (t) => {
  const config = readStackFile('prod')
  await setupMocks({ project: 'pennyworth', stack: 'prod', config })
  t.throws(
    () => readStackConfig('identity'),
    /the identity program must run as project "pennyworth-identity", not "pennyworth"/,
  )
  const edge = readStackConfig('edge')
  t.same(
    [edge.program, edge.project, edge.stack, edge.namePrefix, edge.stackOrganization],
    ['edge', 'pennyworth', 'prod', 'pennyworth-prod', 'organization'],
  )
  await setupMocks({ project: 'pennyworth-data', stack: 'prod', config })
  const data = readStackConfig('data')
  t.same(
    [data.project, data.namePrefix, data.baseDomain],
    ['pennyworth', 'pennyworth-prod', config['pennyworth:baseDomain']],
    'pennyworth:… keys read from the shared file',
  )
  await setupMocks({ project: 'pennyworth-data', stack: 'Prod_1', config })
  t.throws(() => readStackConfig('data'), /stack "Prod_1" is not a valid environment name/)
})
