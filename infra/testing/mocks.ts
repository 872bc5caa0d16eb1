/**
 * Pulumi mocks for the infra tests (test/infra/*): records every resource the program
 * registers, returns the computed outputs AWS would (ARNs, invoke ARNs, validation options …)
 * and answers every data source the program calls. Never imported by the program itself.
 *
 * Call `setupMocks()` (awaited) BEFORE importing the program or creating components.
 */
import * as pulumi from '@pulumi/pulumi'

export const MOCK_ACCOUNT = '123456789012'
export const MOCK_ZONE_ID = 'Z0MOCKZONE12345'

export interface CapturedResource {
  type: string
  name: string
  id: string
  inputs: Record<string, any>
  state: Record<string, any>
  /** Provider reference (`<provider urn>::<provider id>`); empty for the default provider. */
  provider?: string
}

export interface MockOptions {
  project?: string
  stack?: string
  region?: string
  /** `namespace:key` → value; non-strings are JSON-encoded like the CLI does. */
  config?: Record<string, unknown>
  secretKeys?: string[]
  /** Name of the hosted zone that route53 getZone returns (default: the looked-up name). */
  zoneName?: string
  /**
   * Outputs of other stacks by fully qualified name (`organization/pennyworth-data/prod`):
   * what a `pulumi.StackReference` to that name reads.
   */
  stackOutputs?: Record<string, Record<string, unknown>>
}

export interface MockHarness {
  resources: CapturedResource[]
  /** Data-source tokens the program called. */
  calls: string[]
  /** Tokens the mock did not know (answered with {}); a test should expect none. */
  unknownCalls: string[]
  /** Stack references to names `stackOutputs` did not have (answered with no outputs); expect none. */
  unknownStackReferences: string[]
  /** URNs of every registered resource (what the engine would compare with the stack's state). */
  urns(): string[]
  /**
   * Registered URN → the URNs its `aliases` stand for (the engine treats a resource found in the
   * state under an alias as this resource: an update, not a replacement).
   */
  aliases(): Map<string, string[]>
  /** The explicit provider resource a resource uses (undefined = default provider). */
  providerOf(resource: CapturedResource): CapturedResource | undefined
  ofType(type: string): CapturedResource[]
  one(type: string, nameIncludes?: string): CapturedResource
  /** Resolves once no resource has been registered for `quietMs`. */
  settle(quietMs?: number): Promise<void>
}

/** Resolves an Output's value (mocks resolve everything, including secrets). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) =>
    pulumi.output(output).apply((v) => {
      resolve(v as T)
      return v
    }),
  )
}

export async function setupMocks(options: MockOptions = {}): Promise<MockHarness> {
  const region = options.region ?? 'us-west-2'
  const acct = MOCK_ACCOUNT
  const resources: CapturedResource[] = []
  const calls: string[] = []
  const unknownCalls: string[] = []
  const unknownStackReferences: string[] = []
  let lastRegistration = Date.now()

  const computed = (type: string, name: string, inputs: Record<string, any>, id: string): Record<string, any> => {
    const physical: string = inputs.name ?? name
    switch (type) {
      case 'aws:lambda/function:Function': {
        const arn = `arn:aws:lambda:${region}:${acct}:function:${physical}`
        return {
          arn,
          invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
          responseStreamingInvokeArn:
            `arn:aws:apigateway:${region}:lambda:path/2021-11-15/functions/${arn}` + `/response-streaming-invocations`,
          qualifiedArn: `${arn}:$LATEST`,
        }
      }
      case 'aws:apigateway/restApi:RestApi':
        return {
          rootResourceId: `${id}-root`,
          executionArn: `arn:aws:execute-api:${region}:${acct}:${id}`,
          arn: `arn:aws:apigateway:${region}::/restapis/${id}`,
        }
      case 'aws:apigateway/stage:Stage':
        return {
          arn: `arn:aws:apigateway:${region}::/restapis/${inputs.restApi}/stages/${inputs.stageName}`,
          invokeUrl: `https://${inputs.restApi}.execute-api.${region}.amazonaws.com/${inputs.stageName}`,
        }
      case 'aws:apigateway/domainName:DomainName':
        return {
          arn: `arn:aws:apigateway:${region}::/domainnames/${inputs.domainName}`,
          regionalDomainName: `d-mock.execute-api.${region}.amazonaws.com`,
          regionalZoneId: 'Z2OJLYMUO9EFXC',
        }
      case 'aws:acm/certificate:Certificate':
        return {
          arn: `arn:aws:acm:${region}:${acct}:certificate/${id}`,
          domainValidationOptions: [
            {
              domainName: inputs.domainName,
              resourceRecordName: `_0123456789abcdef.${inputs.domainName}.`,
              resourceRecordType: 'CNAME',
              resourceRecordValue: '_fedcba9876543210.mock.acm-validations.aws.',
            },
          ],
        }
      case 'aws:acm/certificateValidation:CertificateValidation':
        return { certificateArn: inputs.certificateArn }
      case 'aws:route53/record:Record':
        return { fqdn: String(inputs.name).replace(/\.$/, '') }
      case 'aws:dynamodb/table:Table':
        return { arn: `arn:aws:dynamodb:${region}:${acct}:table/${physical}` }
      case 'aws:iam/role:Role':
        return { arn: `arn:aws:iam::${acct}:role/${physical}`, name: physical, uniqueId: `AROA${id}` }
      case 'aws:iam/policy:Policy':
        return { arn: `arn:aws:iam::${acct}:policy/${physical}`, name: physical }
      case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider':
        return { arn: `arn:aws:iam::${acct}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, '')}` }
      case 'aws:cognito/userPool:UserPool':
        return {
          arn: `arn:aws:cognito-idp:${region}:${acct}:userpool/${id}`,
          endpoint: `cognito-idp.${region}.amazonaws.com/${id}`,
        }
      case 'aws:cloudwatch/logGroup:LogGroup':
        return { arn: `arn:aws:logs:${region}:${acct}:log-group:${physical}` }
      case 'aws:sns/topic:Topic':
        return { arn: `arn:aws:sns:${region}:${acct}:${physical}` }
      case 'aws:cloudwatch/metricAlarm:MetricAlarm':
        return { arn: `arn:aws:cloudwatch:${region}:${acct}:alarm:${physical}` }
      case 'aws:cloudwatch/eventRule:EventRule':
        return { arn: `arn:aws:events:${region}:${acct}:rule/${physical}` }
      default:
        return { arn: `arn:aws:mock:${region}:${acct}:${type}/${physical}` }
    }
  }

  const idFor = (type: string, name: string): string => {
    switch (type) {
      case 'aws:cognito/userPool:UserPool':
        return `${region}_MockPool`
      case 'aws:apigateway/restApi:RestApi':
        return 'mockapi123'
      default:
        return `${name}-id`
    }
  }

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        if (args.type === 'pulumi:pulumi:StackReference') {
          // A StackReference is read with its name as id; its state carries the other stack's outputs.
          const name = String(args.inputs.name)
          const outputs = options.stackOutputs?.[name]
          if (!outputs) unknownStackReferences.push(name)
          const state = { name, outputs: outputs ?? {}, secretOutputNames: [] }
          resources.push({ type: args.type, name: args.name, id: name, inputs: args.inputs, state })
          lastRegistration = Date.now()
          return { id: name, state }
        }
        const id = idFor(args.type, args.name)
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs, id) }
        resources.push({
          type: args.type,
          name: args.name,
          id,
          inputs: args.inputs,
          state,
          provider: args.provider || undefined,
        })
        lastRegistration = Date.now()
        return { id, state }
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push(args.token)
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: acct, arn: `arn:aws:iam::${acct}:user/mock`, userId: 'AIDAMOCK', id: acct }
          case 'aws:index/getRegion:getRegion':
            return { region, name: region, id: region, description: 'mock', endpoint: `ec2.${region}.amazonaws.com` }
          case 'aws:index/getPartition:getPartition':
            return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws', reverseDnsPrefix: 'com.amazonaws' }
          case 'aws:route53/getZone:getZone': {
            const name = options.zoneName ?? args.inputs.name ?? 'example.com'
            return {
              zoneId: args.inputs.zoneId ?? MOCK_ZONE_ID,
              id: args.inputs.zoneId ?? MOCK_ZONE_ID,
              name,
              privateZone: false,
              arn: `arn:aws:route53:::hostedzone/${MOCK_ZONE_ID}`,
            }
          }
          default:
            // Never throw here: a throwing call mock leaves outputs unresolved and the test hangs.
            unknownCalls.push(args.token)
            return {}
        }
      },
    },
    options.project ?? 'pennyworth',
    options.stack ?? 'prod',
    false,
  )

  const config: Record<string, string> = { 'aws:region': region }
  for (const [key, value] of Object.entries(options.config ?? {})) {
    config[key] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  pulumi.runtime.setAllConfig(config, options.secretKeys)
  const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> }
  const aliases = captureAliases(options.project ?? 'pennyworth', options.stack ?? 'prod')

  const ofType = (type: string) => resources.filter((r) => r.type === type)
  return {
    resources,
    calls,
    unknownCalls,
    unknownStackReferences,
    ofType,
    urns: () => [...monitor.getRegisteredResources().keys()].sort(),
    aliases: () => aliases,
    providerOf(resource) {
      if (!resource.provider) return undefined
      const id = resource.provider.slice(resource.provider.lastIndexOf('::') + 2)
      return resources.find(
        (r) =>
          r.type.startsWith('pulumi:providers:') &&
          r.id === id &&
          resource.provider!.startsWith(`urn:pulumi:`) &&
          resource.provider!.includes(`::${r.type}::${r.name}::`),
      )
    },
    one(type, nameIncludes) {
      const found = ofType(type).filter((r) => nameIncludes === undefined || r.name.includes(nameIncludes))
      if (found.length !== 1)
        throw new Error(`expected one ${type}${nameIncludes ? ` named *${nameIncludes}*` : ''}, found ${found.length}`)
      return found[0]!
    },
    async settle(quietMs = 150) {
      const deadline = Date.now() + 20_000
      while (Date.now() - lastRegistration < quietMs && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, quietMs))
      }
    },
  }
}

/** The parts of the engine's RegisterResource request and alias protos read here. */
interface AliasProto {
  getUrn(): string
  hasSpec(): boolean
  getSpec(): {
    getName(): string
    getType(): string
    getStack(): string
    getProject(): string
    getParenturn(): string
    getNoparent(): boolean
  }
}
interface RegisterRequest {
  getType(): string
  getName(): string
  getParent(): string
  getAliasesList(): AliasProto[]
}

/**
 * Wraps the mock monitor's RegisterResource to resolve each resource's aliases to URNs, as the
 * engine does: `urn:pulumi:<stack>::<project>::<parent's type chain>$<type>::<name>`.
 */
function captureAliases(project: string, stack: string): Map<string, string[]> {
  const found = new Map<string, string[]>()
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: (err: unknown, res?: { getUrn(): string }) => void): unknown
  }
  const register = monitor.registerResource.bind(monitor)
  monitor.registerResource = (req, callback) => {
    const urns = req.getAliasesList().map((alias) => {
      if (!alias.hasSpec()) return alias.getUrn()
      const spec = alias.getSpec()
      const parent = spec.getNoparent() ? '' : spec.getParenturn() || req.getParent()
      const chain = parent ? `${parent.split('::')[2]}$` : ''
      const type = spec.getType() || req.getType()
      const name = spec.getName() || req.getName()
      return `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::${chain}${type}::${name}`
    })
    return register(req, (err, res) => {
      if (res && urns.length > 0) found.set(res.getUrn(), urns)
      callback(err, res)
    })
  }
  return found
}
