/**
 * Our infrastructure rules as Pulumi policies (@pulumi/policy). Pure: no @pulumi/aws import
 * (they match type tokens), so they can be tested with hand-made resources and run against the
 * program's resources captured under mocks (test/infra/policy.test.ts), and bundled into the
 * policy pack that `pulumi up --policy-pack` runs (infra/policy/index.ts, build.ts).
 */
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy'

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
export function policyDocuments(type: string, props: Record<string, any>): { where: string; statements: PolicyStatement[] }[] {
  const found: { where: string; statements: PolicyStatement[] }[] = []
  const add = (where: string, value: unknown) => {
    const doc = parseDocument(value)
    if (doc) found.push({ where, statements: list(doc.Statement) })
  }
  switch (type) {
    case T.role:
      add('assumeRolePolicy', props.assumeRolePolicy)
      for (const [i, p] of list<{ policy?: unknown }>(props.inlinePolicies).entries()) add(`inlinePolicies[${i}]`, p.policy)
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

/**
 * Data-plane actions: they read or change data rather than configuration. On `Resource: "*"`
 * they would reach every table, bucket, model, key … in the account.
 */
export const DATA_PLANE_ACTIONS: RegExp[] = [
  /^bedrock:(InvokeModel|InvokeModelWithResponseStream|Converse|ConverseStream|ApplyGuardrail|Retrieve|RetrieveAndGenerate|InvokeAgent)$/i,
  /^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|Query|Scan|BatchGetItem|BatchWriteItem|ConditionCheckItem|TransactGetItems|TransactWriteItems|PartiQL\w+|GetRecords|GetShardIterator)$/i,
  /^s3:(GetObject\w*|PutObject\w*|DeleteObject\w*|ListBucket\w*|RestoreObject|AbortMultipartUpload)$/i,
  /^kms:(Decrypt|Encrypt|GenerateDataKey\w*|ReEncrypt\w*|Sign|Verify|GenerateMac|VerifyMac)$/i,
  /^logs:(PutLogEvents|GetLogEvents|FilterLogEvents|StartQuery|GetQueryResults)$/i,
  /^(sqs:(SendMessage\w*|ReceiveMessage|DeleteMessage\w*|PurgeQueue)|sns:Publish|lambda:InvokeFunction\w*|secretsmanager:GetSecretValue|ssm:GetParameters?\w*|cognito-idp:Admin\w+|execute-api:Invoke)$/i,
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
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => check(args.type, args.props, (m) => reportViolation(m)),
  }
}

export const noWildcardActions = resourceRule(
  'iam-no-wildcard-actions',
  'IAM statements name every action: no "*" in an action and no NotAction.',
  (type, props, report) => {
    for (const { where, statements } of policyDocuments(type, props)) {
      statements.forEach((s, i) => {
        for (const action of list(s.Action)) {
          if (typeof action === 'string' && action.includes('*')) report(`${where} ${label(s, i)}: wildcard action "${action}"`)
        }
        if (s.NotAction !== undefined) report(`${where} ${label(s, i)}: NotAction allows everything else`)
      })
    }
  },
)

export const noStarResourceForDataPlane = resourceRule(
  'iam-no-star-resource-for-data-plane',
  'Data-plane actions (Bedrock invoke, DynamoDB items, S3 objects, KMS crypto, log events …) are never allowed on Resource "*".',
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
        if (s.Effect !== 'Allow' || !list(s.Action).some((a) => typeof a === 'string' && a.toLowerCase() === 'iam:passrole')) return
        const resources = list(s.Resource)
        if (resources.length === 0 || s.NotResource !== undefined) report(`${where} ${label(s, i)}: PassRole without named resources`)
        for (const r of resources) {
          if (typeof r !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(r)) report(`${where} ${label(s, i)}: PassRole on "${String(r)}" (not one named role)`)
        }
        const passedTo = Object.values(s.Condition ?? {}).some((block) => Object.keys(block).some((k) => k.toLowerCase() === 'iam:passedtoservice'))
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
      const throttled = settings.some((m) =>
        m.restApi === stage.props.restApi && m.stageName === stage.props.stageName && m.methodPath === '*/*'
        && m.settings?.throttlingRateLimit > 0 && m.settings?.throttlingBurstLimit > 0)
      if (!throttled) reportViolation(`stage "${stage.props.stageName}" has no "*/*" throttling`, stage.urn)
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
]

export const stackPolicies: StackValidationPolicy[] = [stageThrottling]

export const allPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...resourcePolicies, ...stackPolicies]
