/**
 * Our infrastructure rules as Pulumi policies (@pulumi/policy). Pure: no @pulumi/aws import
 * (they match type tokens), so they can be tested with hand-made resources and run against the
 * program's resources captured under mocks (test/infra/policy.test.ts), and bundled into the
 * policy pack that `pulumi up --policy-pack` runs (infra/policy/index.ts, build.ts).
 */
import type {
  PolicyProviderResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy'
import { PROGRAMS, projectName } from '../stacks.js'
import { TAG_KEYS } from '../tags.js'

export const T = {
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  policy: 'aws:iam/policy:Policy',
  userPolicy: 'aws:iam/userPolicy:UserPolicy',
  groupPolicy: 'aws:iam/groupPolicy:GroupPolicy',
  table: 'aws:dynamodb/table:Table',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  stage: 'aws:apigateway/stage:Stage',
  methodSettings: 'aws:apigateway/methodSettings:MethodSettings',
  lambda: 'aws:lambda/function:Function',
  rolePolicyAttachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  awsProvider: 'pulumi:providers:aws',
} as const

export const MAX_LAMBDA_TIMEOUT_SECONDS = 900

interface PolicyStatement {
  Sid?: string
  Effect?: string
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: Record<string, Record<string, unknown>>
}

const list = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

function parseDocument(value: unknown): { Statement?: PolicyStatement | PolicyStatement[] } | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'string') {
    try {
      return JSON.parse(value)
    } catch {
      return undefined
    }
  }
  return typeof value === 'object' ? (value as { Statement?: PolicyStatement[] }) : undefined
}

/** Every IAM policy document a resource carries (identity policies and trust policies). */
export function policyDocuments(
  type: string,
  props: Record<string, any>,
): { where: string; statements: PolicyStatement[] }[] {
  const found: { where: string; statements: PolicyStatement[] }[] = []
  const add = (where: string, value: unknown) => {
    const doc = parseDocument(value)
    if (doc) found.push({ where, statements: list(doc.Statement) })
  }
  switch (type) {
    case T.role:
      add('assumeRolePolicy', props.assumeRolePolicy)
      for (const [i, p] of list<{ policy?: unknown }>(props.inlinePolicies).entries())
        add(`inlinePolicies[${i}]`, p.policy)
      break
    case T.rolePolicy:
    case T.policy:
    case T.userPolicy:
    case T.groupPolicy:
      add('policy', props.policy)
      break
  }
  return found
}

const label = (s: PolicyStatement, i: number) => (s.Sid ? `statement "${s.Sid}"` : `statement ${i}`)

/** `^(<alternatives>)$`, case-insensitive: long alternations stay readable one per line. */
const actions = (...alternatives: string[]) => new RegExp(`^(${alternatives.join('|')})$`, 'i')

/**
 * Data-plane actions: they read or change data rather than configuration. On `Resource: "*"`
 * they would reach every table, bucket, model, key … in the account.
 */
export const DATA_PLANE_ACTIONS: RegExp[] = [
  actions(
    'bedrock:InvokeModel',
    'bedrock:InvokeModelWithResponseStream',
    'bedrock:Converse',
    'bedrock:ConverseStream',
    'bedrock:ApplyGuardrail',
    'bedrock:Retrieve',
    'bedrock:RetrieveAndGenerate',
    'bedrock:InvokeAgent',
  ),
  actions(
    'dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|Query|Scan|BatchGetItem|BatchWriteItem)',
    'dynamodb:(ConditionCheckItem|TransactGetItems|TransactWriteItems|PartiQL\\w+|GetRecords|GetShardIterator)',
  ),
  /^s3:(GetObject\w*|PutObject\w*|DeleteObject\w*|ListBucket\w*|RestoreObject|AbortMultipartUpload)$/i,
  /^kms:(Decrypt|Encrypt|GenerateDataKey\w*|ReEncrypt\w*|Sign|Verify|GenerateMac|VerifyMac)$/i,
  /^logs:(PutLogEvents|GetLogEvents|FilterLogEvents|StartQuery|GetQueryResults)$/i,
  actions(
    'sqs:(SendMessage\\w*|ReceiveMessage|DeleteMessage\\w*|PurgeQueue)',
    'sns:Publish',
    'lambda:InvokeFunction\\w*',
    'secretsmanager:GetSecretValue',
    'ssm:GetParameters?\\w*',
    'cognito-idp:Admin\\w+',
    'execute-api:Invoke',
  ),
]

export const isDataPlaneAction = (action: string): boolean => DATA_PLANE_ACTIONS.some((re) => re.test(action))

function resourceRule(
  name: string,
  description: string,
  check: (type: string, props: Record<string, any>, report: (message: string) => void) => void,
): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: 'mandatory',
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) =>
      check(args.type, args.props, (m) => reportViolation(m)),
  }
}

export const noWildcardActions = resourceRule(
  'iam-no-wildcard-actions',
  'IAM statements name every action: no "*" in an action and no NotAction.',
  (type, props, report) => {
    for (const { where, statements } of policyDocuments(type, props)) {
      statements.forEach((s, i) => {
        for (const action of list(s.Action)) {
          if (typeof action === 'string' && action.includes('*'))
            report(`${where} ${label(s, i)}: wildcard action "${action}"`)
        }
        if (s.NotAction !== undefined) report(`${where} ${label(s, i)}: NotAction allows everything else`)
      })
    }
  },
)

export const noStarResourceForDataPlane = resourceRule(
  'iam-no-star-resource-for-data-plane',
  'Data-plane actions (Bedrock invoke, DynamoDB items, S3 objects, KMS crypto, log ' +
    'events …) are never allowed on Resource "*".',
  (type, props, report) => {
    for (const { where, statements } of policyDocuments(type, props)) {
      statements.forEach((s, i) => {
        if (s.Effect !== 'Allow') return
        const everywhere = list(s.Resource).includes('*') || s.NotResource !== undefined
        if (!everywhere) return
        const data = list(s.Action).filter((a) => typeof a === 'string' && isDataPlaneAction(a))
        if (data.length > 0) report(`${where} ${label(s, i)}: ${data.join(', ')} on every resource`)
      })
    }
  },
)

export const passRoleScoped = resourceRule(
  'iam-passrole-scoped',
  'iam:PassRole only on named roles (no wildcard in the ARN) and only with an iam:PassedToService condition.',
  (type, props, report) => {
    for (const { where, statements } of policyDocuments(type, props)) {
      statements.forEach((s, i) => {
        if (
          s.Effect !== 'Allow' ||
          !list(s.Action).some((a) => typeof a === 'string' && a.toLowerCase() === 'iam:passrole')
        )
          return
        const resources = list(s.Resource)
        if (resources.length === 0 || s.NotResource !== undefined)
          report(`${where} ${label(s, i)}: PassRole without named resources`)
        for (const r of resources) {
          if (typeof r !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(r))
            report(`${where} ${label(s, i)}: PassRole on "${String(r)}" (not one named role)`)
        }
        const passedTo = Object.values(s.Condition ?? {}).some((block) =>
          Object.keys(block).some((k) => k.toLowerCase() === 'iam:passedtoservice'),
        )
        if (!passedTo) report(`${where} ${label(s, i)}: PassRole without an iam:PassedToService condition`)
      })
    }
  },
)

export const tableProtection = resourceRule(
  'dynamodb-table-protection',
  'DynamoDB tables have point-in-time recovery and deletion protection.',
  (type, props, report) => {
    if (type !== T.table) return
    if (props.pointInTimeRecovery?.enabled !== true) report('point-in-time recovery is not enabled')
    if (props.deletionProtectionEnabled !== true) report('deletion protection is not enabled')
  },
)

export const logGroupRetention = resourceRule(
  'log-group-retention',
  'CloudWatch log groups expire their events (retentionInDays set; 0 means never).',
  (type, props, report) => {
    if (type !== T.logGroup) return
    const days = props.retentionInDays
    if (typeof days !== 'number' || days <= 0) report('log group keeps events forever: set retentionInDays')
  },
)

export const lambdaTimeout = resourceRule(
  'lambda-timeout-max-900',
  `Lambda timeouts are at most ${MAX_LAMBDA_TIMEOUT_SECONDS} seconds.`,
  (type, props, report) => {
    if (type !== T.lambda) return
    const timeout = props.timeout
    if (timeout !== undefined && (typeof timeout !== 'number' || timeout > MAX_LAMBDA_TIMEOUT_SECONDS)) {
      report(`timeout ${timeout} s exceeds ${MAX_LAMBDA_TIMEOUT_SECONDS} s`)
    }
  },
)

export const stageThrottling: StackValidationPolicy = {
  name: 'apigateway-stage-throttling',
  description: 'Every API Gateway stage has stage-wide throttling (MethodSettings "*/*" with rate and burst limits).',
  enforcementLevel: 'mandatory',
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const settings = args.resources.filter((r) => r.type === T.methodSettings).map((r) => r.props)
    for (const stage of args.resources.filter((r) => r.type === T.stage)) {
      const throttled = settings.some(
        (m) =>
          m.restApi === stage.props.restApi &&
          m.stageName === stage.props.stageName &&
          m.methodPath === '*/*' &&
          m.settings?.throttlingRateLimit > 0 &&
          m.settings?.throttlingBurstLimit > 0,
      )
      if (!throttled) reportViolation(`stage "${stage.props.stageName}" has no "*/*" throttling`, stage.urn)
    }
  },
}

// --- Cost-allocation tags ------------------------------------------------------------------

/**
 * AWS resource types our programs use that cannot carry tags (checked against @pulumi/aws's
 * declarations by test/infra/policy.test.ts). Every other `aws:` type is treated as taggable, so
 * a new resource type is checked unless someone consciously adds it here.
 */
export const UNTAGGABLE_TYPES: ReadonlySet<string> = new Set([
  'aws:acm/certificateValidation:CertificateValidation',
  'aws:apigateway/account:Account',
  'aws:apigateway/basePathMapping:BasePathMapping',
  'aws:apigateway/deployment:Deployment',
  'aws:apigateway/integration:Integration',
  'aws:apigateway/method:Method',
  'aws:apigateway/methodSettings:MethodSettings',
  'aws:apigateway/resource:Resource',
  'aws:cloudwatch/dashboard:Dashboard',
  'aws:cloudwatch/eventTarget:EventTarget',
  'aws:cloudwatch/logMetricFilter:LogMetricFilter',
  'aws:cloudwatch/queryDefinition:QueryDefinition',
  'aws:cognito/userGroup:UserGroup',
  'aws:cognito/userPoolClient:UserPoolClient',
  'aws:cognito/userPoolDomain:UserPoolDomain',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:lambda/permission:Permission',
  'aws:route53/record:Record',
  'aws:sns/topicSubscription:TopicSubscription',
])

function tagMap(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return tagMap(JSON.parse(value))
    } catch {
      return {}
    }
  }
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

/** The provider's `defaultTags.tags` (provider properties may arrive JSON-encoded). */
export function providerDefaultTags(
  provider: { props?: Record<string, unknown> } | undefined,
): Record<string, unknown> {
  return tagMap(tagMap(provider?.props?.defaultTags).tags)
}

/** The tags a resource ends up with: provider defaults, overridden by its own `tags` (or `tagsAll` when known). */
export function effectiveTags(
  props: Record<string, any>,
  provider?: { props?: Record<string, unknown> },
): Record<string, unknown> {
  return { ...providerDefaultTags(provider), ...tagMap(props.tags), ...tagMap(props.tagsAll) }
}

export const costAllocationTags: ResourceValidationPolicy = {
  name: 'aws-cost-allocation-tags',
  description:
    `Every taggable AWS resource carries ${TAG_KEYS.join(', ')} (from its provider's ` +
    `defaultTags or its own tags); Stack is one of ${PROGRAMS.join(', ')}.`,
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (args.type === T.awsProvider) {
      const missing = TAG_KEYS.filter((k) => !providerDefaultTags({ props: args.props })[k])
      if (missing.length > 0)
        reportViolation(
          `AWS provider without defaultTags ${missing.join(', ')}: resources it creates would be untagged`,
        )
      return
    }
    if (!args.type.startsWith('aws:') || UNTAGGABLE_TYPES.has(args.type)) return
    const tags = effectiveTags(args.props, args.provider as PolicyProviderResource | undefined)
    const missing = TAG_KEYS.filter((k) => typeof tags[k] !== 'string' || tags[k] === '')
    if (missing.length > 0)
      reportViolation(
        `missing cost-allocation tags ${missing.join(', ')} (create it with the program's tagged provider)`,
      )
    else if (!(PROGRAMS as readonly string[]).includes(String(tags.Stack)))
      reportViolation(`tag Stack is "${String(tags.Stack)}", not one of ${PROGRAMS.join(', ')}`)
  },
}

// --- The CI deploy role manages the edge only ------------------------------------------------

/** Services the edge deploy role must have no action of at all (identity and data management). */
export const FORBIDDEN_DEPLOY_SERVICES = [
  'cognito-idp',
  'cognito-identity',
  'dynamodb',
  'kms',
  'sts',
  'organizations',
  'account',
  'secretsmanager',
] as const

/** IAM role writes the deploy role may have on the edge's own named roles. */
const ROLE_WRITES = new Set([
  'iam:createrole',
  'iam:putrolepolicy',
  'iam:deleterolepolicy',
  'iam:putrolepermissionsboundary',
  'iam:attachrolepolicy',
  'iam:detachrolepolicy',
  'iam:updaterole',
  'iam:updateroledescription',
  'iam:updateassumerolepolicy',
  'iam:deleterole',
  'iam:tagrole',
  'iam:untagrole',
])
/** …of which these give a role permissions: only with the `iam:PermissionsBoundary` condition. */
const ROLE_GRANTS = new Set([
  'iam:createrole',
  'iam:putrolepolicy',
  'iam:putrolepermissionsboundary',
  'iam:attachrolepolicy',
])

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+)$/

const hasCondition = (s: PolicyStatement, key: string) =>
  Object.values(s.Condition ?? {}).some((block) =>
    Object.keys(block).some((k) => k.toLowerCase() === key.toLowerCase()),
  )

/**
 * Why one action of an Allow statement in a CI role's policy reaches beyond the edge (empty =
 * fine). `ciRoleNames` are the roles CI itself assumes: it must never write those.
 */
export function deployActionViolations(action: string, s: PolicyStatement, ciRoleNames: readonly string[]): string[] {
  const a = action.toLowerCase()
  const [service = '', name = ''] = a.split(':')
  const resources = list(s.Resource).map(String)
  if (a === '*' || service.includes('*'))
    return [`"${action}" grants every service, identity and data management included`]
  if ((FORBIDDEN_DEPLOY_SERVICES as readonly string[]).includes(service))
    return [`"${action}": the edge deploy role needs no ${service} action (identity/data are deployed by an admin)`]
  if (service === 'iam') {
    if (name.includes('*') || name.includes('?'))
      return [`"${action}": IAM wildcard (would include role, policy, user and OIDC-provider management)`]
    if (name === 'passrole' || name.startsWith('get') || name.startsWith('list')) return []
    if (!ROLE_WRITES.has(a))
      return [
        `"${action}": IAM management beyond the edge's own roles (policies, users, OIDC ` +
          `providers, boundaries are identity's)`,
      ]
    const out: string[] = []
    for (const r of resources) {
      const m = ROLE_ARN.exec(r)
      if (!m) out.push(`"${action}" on "${r}": only on named roles (no wildcard)`)
      else if (ciRoleNames.includes(m[1]!)) out.push(`"${action}" on the CI role "${m[1]}" itself`)
    }
    if (s.NotResource !== undefined) out.push(`"${action}" with NotResource`)
    if (ROLE_GRANTS.has(a) && !hasCondition(s, 'iam:PermissionsBoundary'))
      out.push(`"${action}" without an iam:PermissionsBoundary condition`)
    return out
  }
  if (service === 's3') {
    if (/^(put|delete)bucket|^createbucket|^deletebucket/.test(name))
      return [`"${action}": the state bucket itself is the admin's`]
    if (/^(putobject|deleteobject|restoreobject)/.test(name)) {
      const reaching = resources.filter((r) => writesOtherStacksState(r))
      if (reaching.length > 0)
        return [`"${action}" on ${reaching.join(', ')}: would let CI rewrite the identity and data stacks' state`]
    }
  }
  return []
}

/** State-bucket key prefixes of the stacks CI must only read (any environment). */
const PROTECTED_STATE_PREFIXES = ['stacks', 'history', 'backups', 'locks'].flatMap((dir) =>
  PROGRAMS.filter((p) => p !== 'edge').map((p) => `.pulumi/${dir}/${projectName(p)}/`),
)

/**
 * Whether an S3 object ARN pattern can match a key of the identity or data stacks: its literal
 * part (up to the first wildcard) lies inside, or above, one of their prefixes. `bucket/*`,
 * `bucket/.pulumi/stacks/*` and `bucket/.pulumi/stacks/pennyworth*` all can;
 * `bucket/.pulumi/stacks/pennyworth/prod.json*` cannot.
 */
export function writesOtherStacksState(resource: string): boolean {
  if (resource === '*') return true
  const m = /^arn:aws[a-z-]*:s3:::[^/]+\/(.*)$/.exec(resource)
  if (!m) return /^arn:aws[a-z-]*:s3:::[^/]*[*?]/.test(resource)
  const key = m[1]!
  const wild = key.search(/[*?]/)
  const literal = wild < 0 ? key : key.slice(0, wild)
  return PROTECTED_STATE_PREFIXES.some(
    (prefix) => literal.startsWith(prefix) || (wild >= 0 && prefix.startsWith(literal)),
  )
}

function trustsWebIdentity(assumeRolePolicy: unknown): boolean {
  const doc = parseDocument(assumeRolePolicy)
  return list(doc?.Statement).some(
    (s: PolicyStatement & { Principal?: { Federated?: unknown } }) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => typeof a === 'string' && a.toLowerCase() === 'sts:assumerolewithwebidentity') &&
      s.Principal?.Federated !== undefined,
  )
}

export const ciRoleEdgeOnly: StackValidationPolicy = {
  name: 'ci-role-edge-only',
  description:
    'A role CI assumes through OIDC (AssumeRoleWithWebIdentity) may manage the edge ' +
    'only: no Cognito, DynamoDB, KMS or STS action, IAM writes only on named non-CI ' +
    'roles (grants only with the permissions-boundary condition), no rewrite of other ' +
    "stacks' state, no managed policies that cannot be checked.",
  enforcementLevel: 'mandatory',
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const ciRoles = args.resources.filter((r) => r.type === T.role && trustsWebIdentity(r.props.assumeRolePolicy))
    const ciRoleNames = ciRoles.map((r) => String(r.props.name ?? r.name))
    for (const role of ciRoles) {
      const roleName = String(role.props.name ?? role.name)
      const docs: { where: string; statements: PolicyStatement[] }[] = policyDocuments(T.role, role.props).filter(
        (d) => d.where !== 'assumeRolePolicy',
      )
      for (const rp of args.resources.filter((r) => r.type === T.rolePolicy && r.props.role === roleName)) {
        docs.push(...policyDocuments(T.rolePolicy, rp.props).map((d) => ({ ...d, where: `role policy ${rp.name}` })))
      }
      const attached = [
        ...list<string>(role.props.managedPolicyArns),
        ...args.resources
          .filter((r) => r.type === T.rolePolicyAttachment && r.props.role === roleName)
          .map((r) => String(r.props.policyArn)),
      ]
      for (const arn of attached) {
        const managed = args.resources.find((r) => r.type === T.policy && r.props.arn === arn)
        if (!managed)
          reportViolation(
            `CI role "${roleName}": managed policy ${arn} cannot be checked (use an inline policy)`,
            role.urn,
          )
        else
          docs.push(
            ...policyDocuments(T.policy, managed.props).map((d) => ({ ...d, where: `managed policy ${managed.name}` })),
          )
      }
      for (const { where, statements } of docs) {
        statements.forEach((s, i) => {
          if (s.Effect !== 'Allow') return
          if (s.NotAction !== undefined)
            reportViolation(`CI role "${roleName}" ${where} ${label(s, i)}: NotAction`, role.urn)
          for (const action of list(s.Action)) {
            if (typeof action !== 'string') continue
            for (const v of deployActionViolations(action, s, ciRoleNames))
              reportViolation(`CI role "${roleName}" ${where} ${label(s, i)}: ${v}`, role.urn)
          }
        })
      }
    }
  },
}

export const resourcePolicies: ResourceValidationPolicy[] = [
  noWildcardActions,
  noStarResourceForDataPlane,
  passRoleScoped,
  tableProtection,
  logGroupRetention,
  lambdaTimeout,
  costAllocationTags,
]

export const stackPolicies: StackValidationPolicy[] = [stageThrottling, ciRoleEdgeOnly]

export const allPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...resourcePolicies, ...stackPolicies]
