/**
 * The API's custom domain: a DNS-validated ACM certificate for `apiDomain`, the regional API
 * Gateway domain name (TLS 1.2, dual-stack) mapped to the stage, and the A/AAAA alias records
 * in the hosted zone.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { componentTags } from '../../tags.js'
import { movedChild } from './moved.js'

export interface ApiDomainArgs {
  /** Fully qualified API host name, e.g. `api.example.com`. */
  apiDomain: string
  /** Route53 hosted zone in which `apiDomain` and the certificate validation records live. */
  hostedZoneId: pulumi.Input<string>
  restApiId: pulumi.Input<string>
  stageName: pulumi.Input<string>
}

export class ApiDomain extends pulumi.ComponentResource {
  readonly domainName: pulumi.Output<string>

  /** `name` is the edge's: the resources keep the names they had as direct children of Edge. */
  constructor(name: string, args: ApiDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:ApiDomain', name, {}, opts)
    const child = (extra?: pulumi.CustomResourceOptions) => movedChild(this, opts?.parent, extra)

    const cert = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: args.apiDomain, validationMethod: 'DNS', tags: componentTags('domain') },
      child(),
    )
    const dvo = cert.domainValidationOptions.apply((options) => {
      const option = options.find((o) => o.domainName === args.apiDomain) ?? options[0]
      if (!option) throw new Error(`ACM returned no DNS validation option for ${args.apiDomain}`)
      return option
    })
    const validationRecord = new aws.route53.Record(
      `${name}-cert-validation`,
      {
        zoneId: args.hostedZoneId,
        name: dvo.resourceRecordName,
        type: dvo.resourceRecordType,
        records: [dvo.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      child(),
    )
    const validation = new aws.acm.CertificateValidation(
      `${name}-cert-validation`,
      { certificateArn: cert.arn, validationRecordFqdns: [validationRecord.fqdn] },
      child(),
    )

    const domain = new aws.apigateway.DomainName(
      `${name}-domain`,
      {
        domainName: args.apiDomain,
        regionalCertificateArn: validation.certificateArn,
        endpointConfiguration: { types: 'REGIONAL', ipAddressType: 'dualstack' },
        securityPolicy: 'TLS_1_2',
        tags: componentTags('domain'),
      },
      child(),
    )

    new aws.apigateway.BasePathMapping(
      `${name}-mapping`,
      { restApi: args.restApiId, stageName: args.stageName, domainName: domain.domainName },
      child(),
    )

    for (const type of ['A', 'AAAA'] as const) {
      new aws.route53.Record(
        `${name}-alias-${type.toLowerCase()}`,
        {
          zoneId: args.hostedZoneId,
          name: args.apiDomain,
          type,
          aliases: [{ name: domain.regionalDomainName, zoneId: domain.regionalZoneId, evaluateTargetHealth: false }],
        },
        child(),
      )
    }

    this.domainName = domain.domainName
    this.registerOutputs({ domainName: this.domainName })
  }
}
