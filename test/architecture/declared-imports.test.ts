/**
 * Every package the code imports is declared in package.json (not reached through another
 * package's dependencies), and what the gateway runs (app/, outside type-only imports) comes from
 * `dependencies`: deployment, build and test packages stay in `devDependencies`.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { importGraph } from '../helpers/import-graph.js'

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}
const packageOf = (to: string) =>
  to
    .split('/')
    .slice(0, to.startsWith('@') ? 2 : 1)
    .join('/')
const isPackage = (to: string) =>
  !to.startsWith('node:') &&
  !builtinModules.includes(packageOf(to)) &&
  !/^(app|infra|scripts|test|contracts)\//.test(to)

const edges = importGraph(process.cwd(), ['app', 'infra', 'scripts', 'test']).filter(
  (e) => !e.from.startsWith('test/fixtures/') && isPackage(e.to),
)

t.test('every imported package is declared', async (t) => {
  t.ok(edges.length > 100, `${edges.length} package imports read`)
  const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)])
  // Type-only imports name the runtime package; their declarations come from @types/<name>.
  const undeclared = edges.filter((e) => {
    const name = packageOf(e.to)
    return !declared.has(name) && !(e.kind === 'type' && declared.has(`@types/${name}`))
  })
  t.same(
    undeclared.map((e) => `${e.from}:${e.line} imports ${e.specifier}`),
    [],
    'add them to package.json',
  )
})

t.test('the gateway runs on dependencies only', async (t) => {
  const dev = edges.filter(
    (e) => e.from.startsWith('app/') && e.kind !== 'type' && !(packageOf(e.to) in pkg.dependencies),
  )
  t.same(
    dev.map((e) => `${e.from}:${e.line} imports ${e.specifier}`),
    [],
    'app/ imports a package that is not in dependencies',
  )
})
