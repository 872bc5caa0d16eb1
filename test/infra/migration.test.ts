/**
 * Migration from the single stack: the URNs an existing deployment holds (recorded from the
 * single-stack program under mocks: test/fixtures/infra/single-stack-urns.json) are moved the
 * way infra/README.md says (`pulumi state move` of the identity and data components into their
 * new projects) and compared with the URNs the three new programs register under mocks. Every
 * existing resource must come out with exactly the URN the new program expects — otherwise
 * Pulumi would delete it and create a new one (a new user pool, an empty table).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  COMPONENTS,
  componentUrn,
  migrationCommands,
  movedUrn,
  ownerOf,
  unmigratedResources,
} from '../../infra/migration.js'
import { PROGRAMS, type ProgramName } from '../../infra/stacks.js'
import { loadEnvironment } from '../../infra/testing/programs.js'

const legacy = (
  JSON.parse(readFileSync(new URL('../fixtures/infra/single-stack-urns.json', import.meta.url), 'utf8')) as {
    urns: string[]
  }
).urns
const stacks = await loadEnvironment()

/** `pulumi state move` of a component: the component and all its descendants, project rewritten. */
function stateMove(urns: string[], program: ProgramName): { moved: string[]; left: string[] } {
  const root = componentUrn(program, 'prod', 'pennyworth')
  const isPart = (urn: string) => urn === root || (urn.split('::')[2] ?? '').startsWith(`${COMPONENTS[program].type}$`)
  return { moved: urns.filter(isPart).map((u) => movedUrn(u, program)), left: urns.filter((u) => !isPart(u)) }
}

t.test('the fixture is a real single-stack deployment: all three components in project pennyworth', async (t) => {
  t.equal(legacy.length, 45)
  for (const p of PROGRAMS) t.ok(legacy.includes(componentUrn(p, 'prod', 'pennyworth')), p)
  t.ok(legacy.every((u) => u.startsWith('urn:pulumi:prod::pennyworth::')))
})

t.test('after the two state moves, every existing resource has the URN its new program registers', async (t) => {
  const identityMove = stateMove(legacy, 'identity')
  const dataMove = stateMove(identityMove.left, 'data')
  const after: Record<ProgramName, string[]> = {
    identity: identityMove.moved,
    data: dataMove.moved,
    edge: dataMove.left,
  }
  t.same(after.identity.length + after.data.length + after.edge.length, legacy.length, 'nothing lost in the move')
  // A resource matches an existing one by its URN or by one of its aliases (the edge's resources
  // moved into child components with an alias to their old URN).
  const known = (program: ProgramName, urn: string) =>
    [urn, ...(stacks[program].mocks.aliases().get(urn) ?? [])].some((u) => after[program].includes(u))
  for (const program of PROGRAMS) {
    const registered = new Set(
      stacks[program].mocks.urns().flatMap((u) => [u, ...(stacks[program].mocks.aliases().get(u) ?? [])]),
    )
    const missing = after[program].filter((u) => !registered.has(u))
    t.same(missing, [], `${program}: no existing resource would be deleted (and recreated)`)
  }
  // What the new programs add on top (created, not moved): nothing that holds data.
  const added = (program: ProgramName) =>
    stacks[program].mocks
      .urns()
      .filter((u) => !known(program, u))
      .map((u) => u.split('::').slice(2).join('::'))
  t.same(
    added('identity'),
    [
      'pennyworth:infra:Identity$aws:cognito/userPoolClient:UserPoolClient::identity-console',
      'pennyworth:infra:Identity$aws:cognito/userPoolDomain:UserPoolDomain::identity-login',
      'pennyworth:infra:McpOAuthClient$aws:cognito/userPoolClient:UserPoolClient::identity-mcp-oauth-client',
      'pennyworth:infra:McpOAuthClient::identity-mcp-oauth',
      'pulumi:providers:aws::aws',
    ],
    "the web console's app client and login domain, the MCP OAuth facade's app client",
  )
  t.same(
    added('data'),
    [
      'pennyworth:infra:Data$aws:dynamodb/table:Table::data-oauth',
      'pennyworth:infra:Data$aws:dynamodb/table:Table::data-responses',
      'pulumi:providers:aws::aws',
    ],
    'the new responses and oauth tables',
  )
  // The edge's child components (new, holding nothing) and the reconcile schedule, which came
  // after the single stack. (The mock monitor names a nested resource by its parent's type only.)
  t.same(added('edge').sort(), [
    'pennyworth:infra:Edge$pennyworth:infra:ApiDomain::edge',
    'pennyworth:infra:Edge$pennyworth:infra:EdgeAlarms::edge',
    'pennyworth:infra:Edge$pennyworth:infra:EdgeFunction::edge',
    'pennyworth:infra:Edge$pennyworth:infra:Observability::edge-obs',
    'pennyworth:infra:Edge$pennyworth:infra:ReconcileSchedule::edge',
    'pennyworth:infra:Edge$pennyworth:infra:StreamingRestApi::edge',
    'pennyworth:infra:Observability$aws:cloudwatch/dashboard:Dashboard::edge-obs-dashboard',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-duration-near-timeout',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-dynamodb-throttles',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-spend-per-hour',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-ttft-p99',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-upstream-throttles',
    'pennyworth:infra:Observability$aws:cloudwatch/metricAlarm:MetricAlarm::edge-obs-usage-write-failures',
    'pennyworth:infra:Observability$aws:cloudwatch/queryDefinition:QueryDefinition::edge-obs-query-slowest',
    'pennyworth:infra:Observability$aws:cloudwatch/queryDefinition:QueryDefinition::edge-obs-query-top-keys',
    'pennyworth:infra:ReconcileSchedule$aws:cloudwatch/eventRule:EventRule::edge-reconcile',
    'pennyworth:infra:ReconcileSchedule$aws:cloudwatch/eventTarget:EventTarget::edge-reconcile-target',
    'pennyworth:infra:ReconcileSchedule$aws:lambda/permission:Permission::edge-reconcile-invoke',
    'pulumi:providers:aws::aws',
    'pulumi:pulumi:StackReference::data-stack',
    'pulumi:pulumi:StackReference::identity-stack',
  ])
})

t.test('the moved user pool and tables keep their logical names and AWS deletion protection', async (t) => {
  const pool = stacks.identity.mocks.one('aws:cognito/userPool:UserPool')
  t.equal(pool.name, 'identity-users')
  t.equal(pool.inputs.deletionProtection, 'ACTIVE')
  for (const table of stacks.data.mocks.ofType('aws:dynamodb/table:Table'))
    t.equal(table.inputs.deletionProtectionEnabled, true, table.name)
})

t.test('an unmigrated edge stack is recognised; a migrated one is not', async (t) => {
  const leftovers = unmigratedResources(legacy)
  t.equal(leftovers.length, legacy.filter((u) => ownerOf(u) === 'identity' || ownerOf(u) === 'data').length)
  t.ok(
    leftovers.includes(
      'urn:pulumi:prod::pennyworth::pennyworth:infra:Identity$aws:cognito/userPool:UserPool::identity-users',
    ),
  )
  t.ok(leftovers.includes('urn:pulumi:prod::pennyworth::pennyworth:infra:Data$aws:dynamodb/table:Table::data-keys'))
  t.same(unmigratedResources(stacks.edge.mocks.urns()), [])
})

t.test('the migration commands move exactly the two components, into the right stacks', async (t) => {
  t.same(migrationCommands('prod'), [
    'pulumi stack init organization/pennyworth-identity/prod --cwd infra/identity --secrets-provider passphrase',
    'pulumi state move --source organization/pennyworth/prod --dest ' +
      'organization/pennyworth-identity/prod --yes ' +
      "'urn:pulumi:prod::pennyworth::pennyworth:infra:Identity::identity'",
    'pulumi stack init organization/pennyworth-data/prod --cwd infra/data --secrets-provider passphrase',
    'pulumi state move --source organization/pennyworth/prod --dest ' +
      'organization/pennyworth-data/prod --yes ' +
      "'urn:pulumi:prod::pennyworth::pennyworth:infra:Data::data'",
  ])
})
