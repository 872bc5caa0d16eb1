/**
 * The dependency rule (test/helpers/dependency-rules.ts) over the real import graph of app/ and infra/,
 * and over two planted trees: test/fixtures/import-graph/bad (one violation per rule, cycles)
 * must fail it, test/fixtures/import-graph/good (every exemption used) must pass it.
 */
import t from 'tap'
import { join } from 'node:path'
import { cycles, describe, importGraph, violations, type Edge } from '../helpers/import-graph.js'
import { KNOWN_VIOLATIONS, RULES } from '../helpers/dependency-rules.js'

const RUNTIME = ['static', 'dynamic'] as const
const key = (e: Edge) => `${e.from} -> ${e.specifier}`

t.test('the real tree: no violation but the known ones, and no import cycle', async (t) => {
  const edges = importGraph(process.cwd(), ['app', 'infra'])
  t.ok(edges.length > 300, `${edges.length} imports read`)
  t.ok(
    edges.some((e) => e.from === 'app/app.ts' && e.to === 'fastify'),
    'the parser sees package imports',
  )
  t.ok(
    edges.some((e) => e.kind === 'dynamic'),
    'and dynamic import()s',
  )
  t.ok(
    edges.some((e) => e.kind === 'type'),
    'and type-only imports',
  )
  const found = violations(edges, RULES)
  const unknown = found.filter((v) => !(key(v.edge) in KNOWN_VIOLATIONS)).map(describe)
  t.same(unknown, [], 'new violations of the dependency rule (docs/architecture.md, test/helpers/dependency-rules.ts)')
  const seen = new Set(found.map((v) => key(v.edge)))
  const fixed = Object.keys(KNOWN_VIOLATIONS).filter((k) => !seen.has(k))
  t.same(
    fixed,
    [],
    'known violations that are gone: delete them from KNOWN_VIOLATIONS in test/helpers/dependency-rules.ts',
  )
  t.same(cycles(edges, [...RUNTIME]), [], 'import cycles (value and dynamic imports)')
  // What a rule lets through (`allow`) must stay a contract without imports of its own.
  for (const allowed of RULES.flatMap((r) => r.allow ?? []))
    t.same(edges.filter((e) => e.from === allowed).map(key), [], `${allowed}, which infra may import, imports nothing`)
  t.ok(
    edges.some((e) => e.from.startsWith('infra/') && e.to === 'app/config-env.ts'),
    'infra sets the Lambda environment with the names app/config.ts reads',
  )
})

t.test('a planted violation of every rule fails the check', async (t) => {
  const edges = importGraph(join('test', 'fixtures', 'import-graph', 'bad'), ['app', 'infra'])
  const found = violations(edges, RULES).map(describe).sort()
  t.same(
    found,
    [
      'app/ never imports infra/: app/x.ts:1 imports ../infra/i.js',
      'below the routes nothing imports Fastify: app/doors/d.ts:1 imports fastify (type)',
      'below the routes nothing imports Fastify: app/services/s.ts:1 imports fastify',
      'doors never import providers, stores or routes: app/doors/d.ts:2 imports ../store/st.js',
      'infra/ never imports app/: infra/i.ts:2 imports ../app/x.js (dynamic)',
      'only the store and the wiring touch the DynamoDB SDK: app/mcp/m.ts:1 imports @aws-sdk/lib-dynamodb',
      'providers never import doors, routes, services or stores: app/providers/p.ts:1 imports ../services/s.js',
      'routes never import routes: app/routes/a.ts:1 imports ./b.js',
      'services never import routes, plugins or doors: app/services/s.ts:2 imports ../routes/a.js',
      'stores never import providers, doors, routes or services: app/store/st.ts:1 imports ../providers/p.js',
      'the neutral core imports no layer: app/core/c2.ts:2 imports ../doors/d.js',
    ].sort(),
  )
  t.ok(
    RULES.every((r) => found.some((line) => line.startsWith(`${r.name}:`))),
    'every rule fires on its plant',
  )
  t.same(
    cycles(edges, [...RUNTIME]),
    [
      ['app/core/c1.ts', 'app/core/c2.ts'],
      ['app/x.ts', 'infra/i.ts'],
    ],
    'a value cycle and a cycle through import()',
  )
  t.same(cycles(edges), [['app/core/c1.ts', 'app/core/c2.ts']], 'value imports only')
})

t.test('the planted healthy tree passes: wiring, a route group index, type-only cycles', async (t) => {
  const edges = importGraph(join('test', 'fixtures', 'import-graph', 'good'), ['app', 'infra'])
  t.ok(
    edges.some((e) => e.from === 'app/app.ts' && e.to === '@aws-sdk/client-dynamodb'),
    'the wiring imports the DynamoDB SDK',
  )
  t.ok(
    edges.some((e) => e.from === 'app/routes/group/index.ts' && e.to === 'app/routes/group/r.ts'),
    'a group index imports its route',
  )
  t.same(violations(edges, RULES).map(describe), [])
  t.same(cycles(edges, [...RUNTIME]), [])
  t.same(cycles(edges, ['type']), [['app/lib/t1.ts', 'app/lib/t2.ts']], 'the type-only cycle is seen, and allowed')
})
