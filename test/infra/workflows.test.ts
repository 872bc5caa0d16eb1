/**
 * Both GitHub workflows against GitHub's own workflow schema (@actions/workflow-parser, the
 * parser behind the Actions language service; offline), plus the properties that matter:
 * CI runs .ci/run on Node 20; deploy uses OIDC only, the stack's config, secrets for state.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tsImport } from 'tsx/esm/api'
import { parse } from 'yaml'
import { ROOT } from '../../infra/config.js'
import { projectName } from '../../infra/stacks.js'

// The parser imports its schema JSON without an import attribute (bundler style), which Node's
// own ESM loader (used by tap) rejects; tsx's loader accepts it.
const { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } = (await tsImport(
  '@actions/workflow-parser',
  import.meta.url,
)) as typeof import('@actions/workflow-parser')

async function validate(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  const errors = result.context.errors.getErrors().map((e) => e.message)
  if (errors.length === 0 && result.value) {
    const template = await convertWorkflowTemplate(result.context, result.value)
    errors.push(...(template.errors ?? []).map((e) => e.Message))
  }
  return errors
}

const read = (file: string) => readFileSync(join(ROOT, '.github/workflows', file), 'utf8')

t.test('the validator is live: it rejects broken workflows', async (t) => {
  t.not(
    (await validate('bad.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n')).length,
    0,
    'unknown key',
  )
  t.not(
    (
      await validate(
        'bad.yml',
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      ' +
          'id-token: admin\n    steps:\n      - run: echo\n',
      )
    ).length,
    0,
    'bad permission level',
  )
  t.not(
    (
      await validate(
        'bad.yml',
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets. }}\n',
      )
    ).length,
    0,
    'bad expression',
  )
  t.same(
    await validate('ok.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n'),
    [],
  )
})

for (const file of ['ci.yml', 'deploy.yml']) {
  t.test(`${file} conforms to the GitHub workflow schema`, async (t) => {
    t.same(await validate(file, read(file)), [])
  })
}

t.test('ci.yml: pushes and pull requests, Node 20, npm ci, .ci/run', async (t) => {
  const wf = parse(read('ci.yml'))
  t.ok('push' in wf.on && 'pull_request' in wf.on)
  t.same(wf.permissions, { contents: 'read' })
  const steps = wf.jobs.test.steps as Record<string, any>[]
  t.equal(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with['node-version'], 20)
  const runs = steps.map((s) => s.run).filter(Boolean)
  t.same(runs, ['npm ci', 'bash .ci/run'])
})

t.test('deploy.yml: main and by hand, OIDC only, secrets for role and state, policy pack', async (t) => {
  const text = read('deploy.yml')
  const wf = parse(text)
  t.same(wf.on.push, { branches: ['main'] })
  t.equal(wf.on.workflow_dispatch.inputs.stack.default, 'prod')
  t.same(wf.permissions, { contents: 'read' }, 'no token rights by default')
  const deploy = wf.jobs.deploy
  t.same(deploy.permissions, { contents: 'read', 'id-token': 'write' })
  t.same(deploy.needs, 'test')
  t.notOk('environment' in deploy, 'an environment would change the OIDC subject the role trusts')
  t.equal(deploy.if, "github.ref == 'refs/heads/main'")
  const steps = deploy.steps as Record<string, any>[]
  const creds = steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!
  t.match(creds.with['role-to-assume'], /^\$\{\{ .*secrets\.AWS_DEPLOY_ROLE_ARN.*\}\}$/)
  t.equal(creds.with['aws-region'], '${{ steps.stack.outputs.region }}', 'region from Pulumi.<stack>.yaml')
  t.same(Object.keys(creds.with).sort(), ['aws-region', 'role-session-name', 'role-to-assume'])
  t.notMatch(
    text,
    /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/,
    'never static keys',
  )
  const up = steps.find((s) => typeof s.run === 'string' && s.run.includes('pulumi up'))!
  t.same(up.env, {
    PULUMI_BACKEND_URL: '${{ secrets.PULUMI_BACKEND_URL }}',
    PULUMI_CONFIG_PASSPHRASE: '${{ secrets.PULUMI_CONFIG_PASSPHRASE }}',
  })
  t.match(up.run, /pulumi up --yes --stack "\$STACK" --policy-pack dist\/policy-pack/)
  t.ok(steps.indexOf(creds) < steps.indexOf(up))
  const build = steps.find((s) => typeof s.run === 'string' && s.run.includes('npm run build'))!
  t.ok(steps.indexOf(build) < steps.indexOf(up), 'bundle before pulumi up')
  t.match(build.run, /npm run build:policy/)
  t.equal(wf.env.STACK, "${{ inputs.stack || 'prod' }}")
  t.notMatch(up.run, /\$\{\{/, 'no expression interpolated into the shell script (the stack name travels as $STACK)')
})

t.test('deploy.yml deploys the edge only', async (t) => {
  const text = read('deploy.yml')
  const steps = parse(text).jobs.deploy.steps as Record<string, any>[]
  const scripts = steps.map((s) => String(s.run ?? '')).join('\n')
  t.match(scripts, /pulumi up /)
  t.notMatch(
    scripts,
    /--cwd|-C |cd |infra\/identity|infra\/data|npm run deploy|pennyworth-identity|pennyworth-data/,
    'never another project directory, never the whole-environment script',
  )
  t.equal((scripts.match(/pulumi (up|destroy|import|state|refresh)/g) ?? []).length, 1, 'one pulumi operation: up')
  const root = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8'))
  t.equal(root.name, projectName('edge'), 'the top-level project, which pulumi up runs in, is the edge')
  t.equal(root.main, 'infra/edge/index.ts')
})

t.test('the npm scripts the deploy workflow runs exist', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  t.equal(pkg.scripts.build, 'tsx scripts/build-lambda.ts')
  t.equal(pkg.scripts['build:policy'], 'tsx infra/policy/build.ts')
})
