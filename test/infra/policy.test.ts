/**
 * Each rule of the policy pack against a compliant and a violating resource, then every rule
 * against all resources the program creates (under mocks, Pulumi.prod.yaml's config).
 */
import t from 'tap'
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from '@pulumi/policy'
import {
  T, allPolicies, lambdaTimeout, logGroupRetention, noStarResourceForDataPlane, noWildcardActions, passRoleScoped,
  resourcePolicies, stackPolicies, stageThrottling, tableProtection,
} from '../../infra/policy/rules.js'
import { loadProdProgram } from '../../infra/testing/prod-program.js'

function resourceArgs(type: string, props: Record<string, any>, name = 'r'): ResourceValidationArgs {
  return {
    type, props, name, urn: `urn:pulumi:prod::pennyworth::${type}::${name}`,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: () => ({}),
    notApplicable: () => { throw new Error('not applicable') },
  } as unknown as ResourceValidationArgs
}

async function check(policy: ResourceValidationPolicy, type: string, props: Record<string, any>): Promise<string[]> {
  const violations: string[] = []
  for (const validate of [policy.validateResource].flat()) await validate!(resourceArgs(type, props), (m) => violations.push(m))
  return violations
}

async function checkStack(policy: StackValidationPolicy, resources: { type: string; props: Record<string, any>; name?: string }[]): Promise<string[]> {
  const violations: string[] = []
  const args = {
    resources: resources.map((r, i) => ({ ...r, name: r.name ?? `r${i}`, urn: `urn:${i}`, opts: {}, isType: () => false, asType: () => undefined }) as unknown as PolicyResource),
    stackTags: new Map(),
    getConfig: () => ({}),
    notApplicable: () => { throw new Error('not applicable') },
  } as unknown as StackValidationArgs
  await policy.validateStack(args, (m) => violations.push(m))
  return violations
}

const policyDoc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement })
const good = { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: 'arn:aws:dynamodb:us-west-2:123456789012:table/x' }

t.test('every rule is mandatory and has a unique name', async (t) => {
  t.equal(new Set(allPolicies.map((p) => p.name)).size, allPolicies.length)
  for (const p of allPolicies) t.equal(p.enforcementLevel, 'mandatory', p.name)
})

t.test('iam-no-wildcard-actions', async (t) => {
  t.same(await check(noWildcardActions, T.rolePolicy, { policy: policyDoc(good) }), [])
  t.same(await check(noWildcardActions, T.role, { assumeRolePolicy: policyDoc({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }) }), [])
  t.equal((await check(noWildcardActions, T.rolePolicy, { policy: policyDoc({ ...good, Action: 'dynamodb:*' }) })).length, 1)
  t.equal((await check(noWildcardActions, T.policy, { policy: policyDoc({ ...good, Action: ['s3:Get*', '*'] }) })).length, 2)
  t.equal((await check(noWildcardActions, T.role, { assumeRolePolicy: policyDoc({ Effect: 'Allow', Action: 'sts:*' }) })).length, 1, 'trust policies too')
  t.equal((await check(noWildcardActions, T.role, { assumeRolePolicy: '{}', inlinePolicies: [{ name: 'x', policy: policyDoc({ ...good, Action: 'iam:*' }) }] })).length, 1, 'inline policies too')
  t.match(await check(noWildcardActions, T.rolePolicy, { policy: policyDoc({ Effect: 'Allow', NotAction: 'iam:CreateUser', Resource: '*' }) }), [/NotAction/])
  t.same(await check(noWildcardActions, T.table, { policy: policyDoc({ Action: '*' }) }), [], 'only IAM resources are inspected')
  t.same(await check(noWildcardActions, T.policy, { policy: { Version: '2012-10-17', Statement: [good] } }), [], 'object documents parse too')
  t.equal((await check(noWildcardActions, T.policy, { policy: { Version: '2012-10-17', Statement: { ...good, Action: 'lambda:*' } } })).length, 1, 'single statement object')
})

t.test('iam-no-star-resource-for-data-plane', async (t) => {
  t.same(await check(noStarResourceForDataPlane, T.rolePolicy, { policy: policyDoc(good) }), [])
  t.same(await check(noStarResourceForDataPlane, T.rolePolicy, { policy: policyDoc({ Effect: 'Allow', Action: ['acm:RequestCertificate', 'cognito-idp:CreateUserPool'], Resource: '*' }) }), [], 'control plane on * is allowed')
  t.same(await check(noStarResourceForDataPlane, T.rolePolicy, { policy: policyDoc({ Effect: 'Deny', Action: 'dynamodb:GetItem', Resource: '*' }) }), [], 'deny on * is fine')
  for (const action of ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream', 'dynamodb:Query', 's3:GetObject', 'kms:Decrypt', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue']) {
    t.equal((await check(noStarResourceForDataPlane, T.rolePolicy, { policy: policyDoc({ Effect: 'Allow', Action: action, Resource: '*' }) })).length, 1, action)
  }
  t.equal((await check(noStarResourceForDataPlane, T.policy, { policy: policyDoc({ Effect: 'Allow', Action: 'dynamodb:PutItem', NotResource: 'arn:aws:dynamodb:us-west-2:1:table/x' }) })).length, 1, 'NotResource counts as everywhere')
})

t.test('iam-passrole-scoped', async (t) => {
  const named = { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/app-lambda', Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } }
  t.same(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc(named) }), [])
  t.match(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc({ ...named, Condition: undefined }) }), [/PassedToService/])
  t.match(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc({ ...named, Resource: '*' }) }), [/not one named role/])
  t.match(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc({ ...named, Resource: 'arn:aws:iam::123456789012:role/app-*' }) }), [/not one named role/])
  t.match(await check(passRoleScoped, T.policy, { policy: policyDoc({ ...named, Action: ['IAM:PassRole'], Resource: '*', Condition: undefined }) }), [/not one named role/, /PassedToService/])
})

t.test('dynamodb-table-protection', async (t) => {
  t.same(await check(tableProtection, T.table, { pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: true }), [])
  t.match(await check(tableProtection, T.table, { deletionProtectionEnabled: true }), [/point-in-time/])
  t.match(await check(tableProtection, T.table, { pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: false }), [/deletion protection/])
})

t.test('log-group-retention', async (t) => {
  t.same(await check(logGroupRetention, T.logGroup, { retentionInDays: 14 }), [])
  t.equal((await check(logGroupRetention, T.logGroup, {})).length, 1)
  t.equal((await check(logGroupRetention, T.logGroup, { retentionInDays: 0 })).length, 1)
})

t.test('lambda-timeout-max-900', async (t) => {
  t.same(await check(lambdaTimeout, T.lambda, { timeout: 900 }), [])
  t.same(await check(lambdaTimeout, T.lambda, {}), [], 'default 3 s')
  t.equal((await check(lambdaTimeout, T.lambda, { timeout: 901 })).length, 1)
})

t.test('apigateway-stage-throttling', async (t) => {
  const stage = { type: T.stage, props: { restApi: 'api1', stageName: 'live' } }
  const throttled = { type: T.methodSettings, props: { restApi: 'api1', stageName: 'live', methodPath: '*/*', settings: { throttlingRateLimit: 50, throttlingBurstLimit: 100 } } }
  t.same(await checkStack(stageThrottling, [stage, throttled]), [])
  t.equal((await checkStack(stageThrottling, [stage])).length, 1, 'no method settings')
  t.equal((await checkStack(stageThrottling, [stage, { ...throttled, props: { ...throttled.props, stageName: 'other' } }])).length, 1, 'settings of another stage')
  t.equal((await checkStack(stageThrottling, [stage, { ...throttled, props: { ...throttled.props, methodPath: 'v1/GET' } }])).length, 1, 'one method only')
  t.equal((await checkStack(stageThrottling, [stage, { ...throttled, props: { ...throttled.props, settings: { throttlingRateLimit: 50 } } }])).length, 1, 'no burst limit')
})

t.test('the whole program (Pulumi.prod.yaml) passes every rule', async (t) => {
  const { mocks } = await loadProdProgram()
  const applied = new Map<string, number>()
  for (const policy of resourcePolicies) {
    for (const r of mocks.resources) {
      const violations: string[] = []
      for (const validate of [policy.validateResource].flat()) await validate!(resourceArgs(r.type, r.inputs, r.name), (m) => violations.push(m))
      t.same(violations, [], `${policy.name}: ${r.type} ${r.name}`)
    }
  }
  for (const policy of stackPolicies) {
    t.same(await checkStack(policy, mocks.resources.map((r) => ({ type: r.type, props: r.state, name: r.name }))), [], policy.name)
  }
  // Not vacuous: each rule had something to look at.
  const count = (...types: string[]) => mocks.resources.filter((r) => types.includes(r.type)).length
  applied.set('iam', count(T.role, T.rolePolicy, T.policy))
  applied.set('table', count(T.table))
  applied.set('logGroup', count(T.logGroup))
  applied.set('lambda', count(T.lambda))
  applied.set('stage', count(T.stage))
  t.same(Object.fromEntries(applied), { iam: 7, table: 4, logGroup: 2, lambda: 1, stage: 1 })
})
