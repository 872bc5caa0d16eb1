/** ApiDomain on its own: DNS-validated certificate, regional TLS 1.2 domain, A and AAAA aliases. */
import t from 'tap'
import { setupMocks, valueOf } from '../../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { ApiDomain } = await import('../../../infra/components/edge/domain.js')

const domain = new ApiDomain('dx', {
  apiDomain: 'api.dev.example.org',
  hostedZoneId: 'ZDEV',
  restApiId: 'api123',
  stageName: 'live',
})
await valueOf(domain.domainName)
await mocks.settle()

t.test('certificate validated through a record in the zone', async (t) => {
  t.equal(mocks.one('aws:acm/certificate:Certificate').inputs.validationMethod, 'DNS')
  const validation = mocks.ofType('aws:route53/record:Record').find((r) => r.name === 'dx-cert-validation')
  t.equal(validation?.inputs.zoneId, 'ZDEV')
  t.equal(mocks.ofType('aws:acm/certificateValidation:CertificateValidation').length, 1)
})

t.test('the domain: regional, dual-stack, TLS 1.2, mapped to the stage, A and AAAA aliases', async (t) => {
  const d = mocks.one('aws:apigateway/domainName:DomainName')
  t.equal(d.inputs.domainName, 'api.dev.example.org')
  t.equal(d.inputs.securityPolicy, 'TLS_1_2')
  t.same(d.inputs.endpointConfiguration, { types: 'REGIONAL', ipAddressType: 'dualstack' })
  const mapping = mocks.one('aws:apigateway/basePathMapping:BasePathMapping')
  t.same([mapping.inputs.restApi, mapping.inputs.stageName], ['api123', 'live'])
  const aliases = mocks.ofType('aws:route53/record:Record').filter((r) => r.inputs.aliases)
  t.same(aliases.map((r) => r.inputs.type).sort(), ['A', 'AAAA'])
})
