/**
 * The built policy pack under the Pulumi CLI's own Node.js policy runner
 * (@pulumi/pulumi/cmd/run-policy-pack, what `pulumi up --policy-pack` starts): it loads, serves
 * the analyzer gRPC API, lists our rules and reports violations.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildPolicyPack } from '../../infra/policy/build.js'
import { allPolicies } from '../../infra/policy/rules.js'

const require = createRequire(import.meta.url)
const grpc = require('@grpc/grpc-js')
const services = require('@pulumi/pulumi/proto/analyzer_grpc_pb.js')
const messages = require('@pulumi/pulumi/proto/analyzer_pb.js')
const { Struct } = require('google-protobuf/google/protobuf/struct_pb.js')

const pack = await buildPolicyPack(join(mkdtempSync(join(tmpdir(), 'policy-pack-')), 'pack'))
const runner = spawn(process.execPath, ['node_modules/@pulumi/pulumi/cmd/run-policy-pack', '127.0.0.1:1', '.'], {
  cwd: pack,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, NODE_OPTIONS: '' },
})
t.teardown(() => {
  runner.kill()
})
let stderr = ''
runner.stderr.on('data', (d) => {
  stderr += d
})
const port = await new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`policy runner printed no port in 30 s: ${stderr}`)), 30_000)
  runner.stdout.on('data', (d: Buffer) => {
    const m = /^(\d+)\s*$/m.exec(d.toString())
    if (m) {
      clearTimeout(timer)
      resolve(Number(m[1]))
    }
  })
  runner.on('exit', (code) => reject(new Error(`policy runner exited ${code}: ${stderr}`)))
})
const client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
t.teardown(() => client.close())

const call = <T>(method: string, req: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  )

async function analyze(type: string, props: Record<string, unknown>): Promise<string[]> {
  const req = new messages.AnalyzeRequest()
  req.setType(type)
  req.setName('r')
  req.setUrn(`urn:pulumi:prod::pennyworth::${type}::r`)
  req.setProperties(Struct.fromJavaScript(props))
  req.setOptions(new messages.AnalyzerResourceOptions())
  const res = await call<any>('analyze', req)
  return res.getDiagnosticsList().map((d: any) => `${d.getPolicyname()}: ${d.getMessage()}`)
}

t.test('the runner serves our rules', async (t) => {
  const { Empty } = require('google-protobuf/google/protobuf/empty_pb.js')
  const info = await call<any>('getAnalyzerInfo', new Empty())
  t.equal(info.getName(), 'pennyworth')
  t.same(
    info
      .getPoliciesList()
      .map((p: any) => p.getName())
      .sort(),
    allPolicies.map((p) => p.name).sort(),
  )
})

const tags = { Project: 'pennyworth', Environment: 'prod', Stack: 'data', Component: 'table-keys' }

t.test('a table without PITR is reported; a protected one is not', async (t) => {
  t.match(await analyze('aws:dynamodb/table:Table', { deletionProtectionEnabled: true, tags }), [
    /^dynamodb-table-protection: .*point-in-time/,
  ])
  t.same(
    await analyze('aws:dynamodb/table:Table', {
      deletionProtectionEnabled: true,
      pointInTimeRecovery: { enabled: true },
      tags,
    }),
    [],
  )
})

t.test('a wildcard action is reported', async (t) => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b' }],
  })
  t.match(await analyze('aws:iam/rolePolicy:RolePolicy', { policy, role: 'x' }), [/^iam-no-wildcard-actions: /])
})

t.test('an untagged resource is reported; a tagged one is not', async (t) => {
  t.match(await analyze('aws:sns/topic:Topic', { name: 't' }), [
    /^aws-cost-allocation-tags: [\s\S]*missing cost-allocation tags Project, Environment, Stack, Component/,
  ])
  t.same(await analyze('aws:sns/topic:Topic', { name: 't', tags: { ...tags, Stack: 'edge', Component: 'alarms' } }), [])
})
