/**
 * Each rule of the policy pack against compliant and violating resources, then every rule
 * against all resources the three programs create (under mocks, Pulumi.prod.yaml's config).
 */
import t from 'tap'
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../infra/config.js'
import {
  T,
  UNTAGGABLE_TYPES,
  allPolicies,
  ciRoleEdgeOnly,
  costAllocationTags,
  lambdaTimeout,
  logGroupRetention,
  noStarResourceForDataPlane,
  noWildcardActions,
  passRoleScoped,
  resourcePolicies,
  stackPolicies,
  stageThrottling,
  tableProtection,
} from '../../infra/policy/rules.js'
import { loadEnvironment } from '../../infra/testing/programs.js'

type Provider = { type: string; props: Record<string, any> } | undefined

function resourceArgs(
  type: string,
  props: Record<string, any>,
  name = 'r',
  provider?: Provider,
): ResourceValidationArgs {
  return {
    type,
    props,
    name,
    urn: `urn:pulumi:prod::pennyworth::${type}::${name}`,
    provider,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: () => ({}),
    notApplicable: () => {
      throw new Error('not applicable')
    },
  } as unknown as ResourceValidationArgs
}

async function check(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, any>,
  provider?: Provider,
): Promise<string[]> {
  const violations: string[] = []
  for (const validate of [policy.validateResource].flat())
    await validate!(resourceArgs(type, props, 'r', provider), (m) => violations.push(m))
  return violations
}

async function checkStack(
  policy: StackValidationPolicy,
  resources: { type: string; props: Record<string, any>; name?: string }[],
): Promise<string[]> {
  const violations: string[] = []
  const args = {
    resources: resources.map(
      (r, i) =>
        ({
          ...r,
          name: r.name ?? `r${i}`,
          urn: `urn:${i}`,
          opts: {},
          isType: () => false,
          asType: () => undefined,
        }) as unknown as PolicyResource,
    ),
    stackTags: new Map(),
    getConfig: () => ({}),
    notApplicable: () => {
      throw new Error('not applicable')
    },
  } as unknown as StackValidationArgs
  await policy.validateStack(args, (m) => violations.push(m))
  return violations
}

const policyDoc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement })
const good = {
  Effect: 'Allow',
  Action: ['dynamodb:GetItem'],
  Resource: 'arn:aws:dynamodb:us-west-2:123456789012:table/x',
}

t.test('every rule is mandatory and has a unique name', async (t) => {
  t.equal(new Set(allPolicies.map((p) => p.name)).size, allPolicies.length)
  for (const p of allPolicies) t.equal(p.enforcementLevel, 'mandatory', p.name)
})

t.test('iam-no-wildcard-actions', async (t) => {
  t.same(await check(noWildcardActions, T.rolePolicy, { policy: policyDoc(good) }), [])
  t.same(
    await check(noWildcardActions, T.role, {
      assumeRolePolicy: policyDoc({
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    }),
    [],
  )
  t.equal(
    (await check(noWildcardActions, T.rolePolicy, { policy: policyDoc({ ...good, Action: 'dynamodb:*' }) })).length,
    1,
  )
  t.equal(
    (await check(noWildcardActions, T.policy, { policy: policyDoc({ ...good, Action: ['s3:Get*', '*'] }) })).length,
    2,
  )
  t.equal(
    (await check(noWildcardActions, T.role, { assumeRolePolicy: policyDoc({ Effect: 'Allow', Action: 'sts:*' }) }))
      .length,
    1,
    'trust policies too',
  )
  t.equal(
    (
      await check(noWildcardActions, T.role, {
        assumeRolePolicy: '{}',
        inlinePolicies: [{ name: 'x', policy: policyDoc({ ...good, Action: 'iam:*' }) }],
      })
    ).length,
    1,
    'inline policies too',
  )
  t.match(
    await check(noWildcardActions, T.rolePolicy, {
      policy: policyDoc({ Effect: 'Allow', NotAction: 'iam:CreateUser', Resource: '*' }),
    }),
    [/NotAction/],
  )
  t.same(
    await check(noWildcardActions, T.table, { policy: policyDoc({ Action: '*' }) }),
    [],
    'only IAM resources are inspected',
  )
  t.same(
    await check(noWildcardActions, T.policy, { policy: { Version: '2012-10-17', Statement: [good] } }),
    [],
    'object documents parse too',
  )
  t.equal(
    (
      await check(noWildcardActions, T.policy, {
        policy: { Version: '2012-10-17', Statement: { ...good, Action: 'lambda:*' } },
      })
    ).length,
    1,
    'single statement object',
  )
})

t.test('iam-no-star-resource-for-data-plane', async (t) => {
  t.same(await check(noStarResourceForDataPlane, T.rolePolicy, { policy: policyDoc(good) }), [])
  t.same(
    await check(noStarResourceForDataPlane, T.rolePolicy, {
      policy: policyDoc({
        Effect: 'Allow',
        Action: ['acm:RequestCertificate', 'cognito-idp:CreateUserPool'],
        Resource: '*',
      }),
    }),
    [],
    'control plane on * is allowed',
  )
  t.same(
    await check(noStarResourceForDataPlane, T.rolePolicy, {
      policy: policyDoc({ Effect: 'Deny', Action: 'dynamodb:GetItem', Resource: '*' }),
    }),
    [],
    'deny on * is fine',
  )
  for (const action of [
    'bedrock:InvokeModel',
    'bedrock:InvokeModelWithResponseStream',
    'dynamodb:Query',
    's3:GetObject',
    'kms:Decrypt',
    'logs:PutLogEvents',
    'secretsmanager:GetSecretValue',
  ]) {
    t.equal(
      (
        await check(noStarResourceForDataPlane, T.rolePolicy, {
          policy: policyDoc({ Effect: 'Allow', Action: action, Resource: '*' }),
        })
      ).length,
      1,
      action,
    )
  }
  t.equal(
    (
      await check(noStarResourceForDataPlane, T.policy, {
        policy: policyDoc({
          Effect: 'Allow',
          Action: 'dynamodb:PutItem',
          NotResource: 'arn:aws:dynamodb:us-west-2:1:table/x',
        }),
      })
    ).length,
    1,
    'NotResource counts as everywhere',
  )
})

t.test('iam-passrole-scoped', async (t) => {
  const named = {
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: 'arn:aws:iam::123456789012:role/app-lambda',
    Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
  }
  t.same(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc(named) }), [])
  t.match(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc({ ...named, Condition: undefined }) }), [
    /PassedToService/,
  ])
  t.match(await check(passRoleScoped, T.rolePolicy, { policy: policyDoc({ ...named, Resource: '*' }) }), [
    /not one named role/,
  ])
  t.match(
    await check(passRoleScoped, T.rolePolicy, {
      policy: policyDoc({ ...named, Resource: 'arn:aws:iam::123456789012:role/app-*' }),
    }),
    [/not one named role/],
  )
  t.match(
    await check(passRoleScoped, T.policy, {
      policy: policyDoc({ ...named, Action: ['IAM:PassRole'], Resource: '*', Condition: undefined }),
    }),
    [/not one named role/, /PassedToService/],
  )
})

t.test('dynamodb-table-protection', async (t) => {
  t.same(
    await check(tableProtection, T.table, { pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: true }),
    [],
  )
  t.match(await check(tableProtection, T.table, { deletionProtectionEnabled: true }), [/point-in-time/])
  t.match(
    await check(tableProtection, T.table, { pointInTimeRecovery: { enabled: true }, deletionProtectionEnabled: false }),
    [/deletion protection/],
  )
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
  const throttled = {
    type: T.methodSettings,
    props: {
      restApi: 'api1',
      stageName: 'live',
      methodPath: '*/*',
      settings: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    },
  }
  t.same(await checkStack(stageThrottling, [stage, throttled]), [])
  t.equal((await checkStack(stageThrottling, [stage])).length, 1, 'no method settings')
  t.equal(
    (await checkStack(stageThrottling, [stage, { ...throttled, props: { ...throttled.props, stageName: 'other' } }]))
      .length,
    1,
    'settings of another stage',
  )
  t.equal(
    (await checkStack(stageThrottling, [stage, { ...throttled, props: { ...throttled.props, methodPath: 'v1/GET' } }]))
      .length,
    1,
    'one method only',
  )
  t.equal(
    (
      await checkStack(stageThrottling, [
        stage,
        { ...throttled, props: { ...throttled.props, settings: { throttlingRateLimit: 50 } } },
      ])
    ).length,
    1,
    'no burst limit',
  )
})

const tags = { Project: 'pennyworth', Environment: 'prod', Stack: 'edge', Component: 'edge' }
const taggedProvider = { type: T.awsProvider, props: { region: 'us-west-2', defaultTags: JSON.stringify({ tags }) } }
const plainProvider = { type: T.awsProvider, props: { region: 'us-west-2' } }

t.test('aws-cost-allocation-tags: an untagged resource fails, provider defaults or own tags pass', async (t) => {
  const fn = { timeout: 900 }
  t.same(await check(costAllocationTags, T.lambda, fn, taggedProvider), [], 'defaults of a tagged provider')
  t.same(
    await check(
      costAllocationTags,
      T.lambda,
      { ...fn, tags: { Component: 'function' } },
      { ...taggedProvider, props: { defaultTags: { tags } } },
    ),
    [],
    'object-valued defaultTags, own Component',
  )
  t.same(await check(costAllocationTags, T.lambda, { ...fn, tags }, plainProvider), [], 'all four as own tags')
  t.same(await check(costAllocationTags, T.lambda, { ...fn, tagsAll: tags }), [], 'tagsAll as AWS reports it')
  t.match(
    await check(costAllocationTags, T.lambda, fn, plainProvider),
    [/missing cost-allocation tags Project, Environment, Stack, Component/],
    'untagged resource',
  )
  t.match(await check(costAllocationTags, T.lambda, fn), [/missing/], 'untagged, default provider')
  t.match(
    await check(costAllocationTags, T.table, { tags: { Project: 'pennyworth', Environment: 'prod', Stack: 'edge' } }),
    [/missing cost-allocation tags Component/],
  )
  t.match(await check(costAllocationTags, T.lambda, { ...fn, tags: { ...tags, Stack: 'misc' } }), [
    /tag Stack is "misc"/,
  ])
  t.match(
    await check(costAllocationTags, T.lambda, { ...fn, tags: { ...tags, Project: '' } }, plainProvider),
    [/Project/],
    'empty value',
  )
  t.same(
    await check(costAllocationTags, 'aws:route53/record:Record', {}, plainProvider),
    [],
    'untaggable types are skipped',
  )
  t.same(await check(costAllocationTags, 'pennyworth:infra:Edge', {}), [], 'components are skipped')
  t.match(
    await check(costAllocationTags, T.awsProvider, plainProvider.props),
    [/AWS provider without defaultTags/],
    'a provider without default tags',
  )
  t.same(await check(costAllocationTags, T.awsProvider, taggedProvider.props), [])
})

t.test('UNTAGGABLE_TYPES is exactly the types @pulumi/aws declares without tags', async (t) => {
  const declaresTags = (token: string) => {
    const [, module] = token.split(':')
    const file = join(ROOT, 'node_modules/@pulumi/aws', `${module}.d.ts`)
    t.ok(existsSync(file), file)
    return /readonly tagsAll: /.test(readFileSync(file, 'utf8'))
  }
  for (const type of UNTAGGABLE_TYPES) t.notOk(declaresTags(type), `${type} has no tags`)
  for (const type of [T.lambda, T.table, T.role, T.logGroup, T.stage, 'aws:cloudwatch/eventRule:EventRule'])
    t.ok(declaresTags(type), `${type} has tags`)
})

const trust = policyDoc({
  Effect: 'Allow',
  Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
  Action: 'sts:AssumeRoleWithWebIdentity',
})
const ciRole = { type: T.role, props: { name: 'p-github-deploy', assumeRolePolicy: trust } }
const deployPolicyWith = (...statements: object[]) => ({
  type: T.rolePolicy,
  props: { name: 'deploy', role: 'p-github-deploy', policy: policyDoc(...statements) },
})
const edgeStatements = [
  {
    Sid: 'Fn',
    Effect: 'Allow',
    Action: ['lambda:CreateFunction', 'lambda:UpdateFunctionCode'],
    Resource: 'arn:aws:lambda:us-west-2:123456789012:function:p-*',
  },
  {
    Sid: 'Roles',
    Effect: 'Allow',
    Action: ['iam:CreateRole', 'iam:PutRolePolicy'],
    Resource: ['arn:aws:iam::123456789012:role/p-lambda'],
    Condition: { StringEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::123456789012:policy/p-boundary' } },
  },
  {
    Sid: 'RoleReads',
    Effect: 'Allow',
    Action: ['iam:GetRole', 'iam:DeleteRole', 'iam:TagRole'],
    Resource: ['arn:aws:iam::123456789012:role/p-lambda'],
  },
  {
    Sid: 'State',
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: 'arn:aws:s3:::state/.pulumi/stacks/pennyworth/prod.json*',
  },
  { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::state/*' },
  { Sid: 'Deny', Effect: 'Deny', Action: ['dynamodb:DeleteTable'], Resource: '*' },
]

t.test('ci-role-edge-only: the deploy policy may manage the edge, nothing of identity or data', async (t) => {
  t.same(
    await checkStack(ciRoleEdgeOnly, [ciRole, deployPolicyWith(...edgeStatements)]),
    [],
    'an edge-only policy passes (a Deny is fine)',
  )
  const planted: [string, object, RegExp][] = [
    ['iam:*', { Effect: 'Allow', Action: 'iam:*', Resource: '*' }, /IAM wildcard/],
    ['cognito-idp:*', { Effect: 'Allow', Action: 'cognito-idp:*', Resource: '*' }, /no cognito-idp action/],
    [
      'one Cognito action',
      {
        Effect: 'Allow',
        Action: 'cognito-idp:UpdateUserPool',
        Resource: 'arn:aws:cognito-idp:us-west-2:123456789012:userpool/x',
      },
      /no cognito-idp action/,
    ],
    ['*', { Effect: 'Allow', Action: '*', Resource: '*' }, /every service/],
    [
      'table management',
      {
        Effect: 'Allow',
        Action: ['dynamodb:CreateTable'],
        Resource: 'arn:aws:dynamodb:us-west-2:123456789012:table/p-*',
      },
      /no dynamodb action/,
    ],
    [
      'KMS',
      { Effect: 'Allow', Action: ['kms:ScheduleKeyDeletion'], Resource: 'arn:aws:kms:us-west-2:123456789012:key/k' },
      /no kms action/,
    ],
    [
      'OIDC provider',
      {
        Effect: 'Allow',
        Action: ['iam:CreateOpenIDConnectProvider'],
        Resource: 'arn:aws:iam::123456789012:oidc-provider/x',
      },
      /beyond the edge's own roles/,
    ],
    [
      'managed policy versions',
      { Effect: 'Allow', Action: ['iam:CreatePolicyVersion'], Resource: 'arn:aws:iam::123456789012:policy/p-boundary' },
      /beyond the edge's own roles/,
    ],
    [
      'boundary removal',
      {
        Effect: 'Allow',
        Action: ['iam:DeleteRolePermissionsBoundary'],
        Resource: 'arn:aws:iam::123456789012:role/p-lambda',
      },
      /beyond the edge's own roles/,
    ],
    [
      'CreateRole without boundary',
      { Effect: 'Allow', Action: ['iam:CreateRole'], Resource: 'arn:aws:iam::123456789012:role/p-lambda' },
      /without an iam:PermissionsBoundary condition/,
    ],
    [
      'role writes on a wildcard',
      {
        Effect: 'Allow',
        Action: ['iam:PutRolePolicy'],
        Resource: 'arn:aws:iam::123456789012:role/p-*',
        Condition: { StringEquals: { 'iam:PermissionsBoundary': 'b' } },
      },
      /only on named roles/,
    ],
    [
      'its own role',
      {
        Effect: 'Allow',
        Action: ['iam:UpdateAssumeRolePolicy'],
        Resource: 'arn:aws:iam::123456789012:role/p-github-deploy',
      },
      /on the CI role "p-github-deploy" itself/,
    ],
    [
      "other stacks' state",
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::state/*' },
      /rewrite the identity and data stacks' state/,
    ],
    [
      'the identity checkpoint',
      {
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: 'arn:aws:s3:::state/.pulumi/stacks/pennyworth-identity/prod.json',
      },
      /rewrite the identity and data stacks' state/,
    ],
    [
      'every checkpoint',
      { Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: 'arn:aws:s3:::state/.pulumi/stacks/*' },
      /rewrite/,
    ],
    [
      'a prefix wildcard reaching data',
      { Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::state/.pulumi/history/pennyworth*' },
      /rewrite/,
    ],
    [
      "the data stack's locks",
      {
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: 'arn:aws:s3:::state/.pulumi/locks/pennyworth-data/prod/*',
      },
      /rewrite/,
    ],
    [
      'the state bucket',
      { Effect: 'Allow', Action: ['s3:PutBucketPolicy'], Resource: 'arn:aws:s3:::state' },
      /the state bucket itself/,
    ],
    [
      'assume other roles',
      { Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: 'arn:aws:iam::123456789012:role/admin' },
      /no sts action/,
    ],
    ['NotAction', { Effect: 'Allow', NotAction: ['iam:CreateUser'], Resource: '*' }, /NotAction/],
  ]
  for (const [what, statement, message] of planted) {
    t.match(await checkStack(ciRoleEdgeOnly, [ciRole, deployPolicyWith(...edgeStatements, statement)]), [message], what)
  }
  t.match(
    await checkStack(ciRoleEdgeOnly, [
      {
        ...ciRole,
        props: {
          ...ciRole.props,
          inlinePolicies: [{ name: 'x', policy: policyDoc({ Effect: 'Allow', Action: 'iam:*', Resource: '*' }) }],
        },
      },
    ]),
    [/IAM wildcard/],
    'inline policies of the role',
  )
  t.match(
    await checkStack(ciRoleEdgeOnly, [
      { ...ciRole, props: { ...ciRole.props, managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] } },
    ]),
    [/cannot be checked/],
    'an AWS managed policy',
  )
  t.match(
    await checkStack(ciRoleEdgeOnly, [
      ciRole,
      { type: T.rolePolicyAttachment, props: { role: 'p-github-deploy', policyArn: 'arn:aws:iam::1:policy/p' } },
      {
        type: T.policy,
        props: {
          arn: 'arn:aws:iam::1:policy/p',
          policy: policyDoc({ Effect: 'Allow', Action: 'cognito-idp:AdminCreateUser', Resource: 'x' }),
        },
      },
    ]),
    [/cognito-idp/],
    'an attached policy of the stack',
  )
  const lambdaRole = {
    type: T.role,
    props: {
      name: 'p-lambda',
      assumeRolePolicy: policyDoc({
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    },
  }
  t.same(
    await checkStack(ciRoleEdgeOnly, [
      lambdaRole,
      {
        type: T.rolePolicy,
        props: {
          role: 'p-lambda',
          policy: policyDoc({ Effect: 'Allow', Action: 'cognito-idp:AdminCreateUser', Resource: 'x' }),
        },
      },
    ]),
    [],
    'roles CI does not assume are not its business',
  )
})

t.test('all three programs (Pulumi.prod.yaml) pass every rule', async (t) => {
  const stacks = await loadEnvironment()
  for (const p of [stacks.identity, stacks.data, stacks.edge]) {
    const { mocks } = p
    for (const policy of resourcePolicies) {
      for (const r of mocks.resources) {
        const violations: string[] = []
        const provider = mocks.providerOf(r)
        for (const validate of [policy.validateResource].flat()) {
          await validate!(
            resourceArgs(r.type, r.inputs, r.name, provider && { type: provider.type, props: provider.inputs }),
            (m) => violations.push(m),
          )
        }
        t.same(violations, [], `${p.program} ${policy.name}: ${r.type} ${r.name}`)
      }
    }
    for (const policy of stackPolicies) {
      t.same(
        await checkStack(
          policy,
          mocks.resources.map((r) => ({ type: r.type, props: r.state, name: r.name })),
        ),
        [],
        `${p.program} ${policy.name}`,
      )
    }
  }
  // Not vacuous: each rule had something to look at.
  const all = [stacks.identity, stacks.data, stacks.edge].flatMap((p) => p.mocks.resources)
  const count = (...types: string[]) => all.filter((r) => types.includes(r.type)).length
  t.same(
    {
      iam: count(T.role, T.rolePolicy, T.policy),
      table: count(T.table),
      logGroup: count(T.logGroup),
      lambda: count(T.lambda),
      stage: count(T.stage),
      provider: count(T.awsProvider),
    },
    { iam: 7, table: 6, logGroup: 2, lambda: 1, stage: 1, provider: 3 },
  )
  const ciRoles = stacks.identity.mocks
    .ofType(T.role)
    .filter((r) => r.inputs.assumeRolePolicy.includes('AssumeRoleWithWebIdentity'))
  t.equal(ciRoles.length, 1, 'the identity stack has the CI role the rule inspects')
  t.ok(
    stacks.identity.mocks.ofType(T.rolePolicy).some((r) => r.state.role === ciRoles[0]!.inputs.name),
    'and its policy is linked to it by name',
  )
})
