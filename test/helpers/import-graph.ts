/**
 * The import graph of app/ and infra/, read with the TypeScript compiler's parser (no type
 * checking, no resolution beyond relative paths), and the dependency rule of
 * docs/architecture.md as data: which folders may not import what. test/architecture/ checks the real
 * tree and planted violations under test/fixtures/import-graph/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import ts from 'typescript'

/** How a module refers to another: a value import (runs at load), import() (runs later), or types only. */
export type EdgeKind = 'static' | 'dynamic' | 'type'

export interface Edge {
  /** Importing file, relative to the root, with forward slashes. */
  from: string
  /** A file relative to the root (relative imports) or the package name (`fastify`, `@aws-sdk/lib-dynamodb`). */
  to: string
  /** What the source says. */
  specifier: string
  kind: EdgeKind
  line: number
}

/**
 * A pattern over files and packages: `app/routes/**` (a folder, at any depth), `app/app.ts` (one
 * file), `pkg:fastify` (that package and its subpaths), `pkg:@fastify/*` (a scope).
 */
export type Pattern = string

export interface Rule {
  name: string
  /** Files the rule applies to. */
  from: Pattern[]
  /** What they must not import. */
  forbid: Pattern[]
  /** Files exempt from the rule (the wiring). */
  except?: Pattern[]
  /** Targets the rule lets through although `forbid` matches them (a shared, import-free contract). */
  allow?: Pattern[]
  /** Type-only imports count too unless this is false. */
  types?: boolean
  /** A folder's index.ts may import the files of its own folder (a route group registering its routes). */
  allowIndexOfOwnFolder?: boolean
  /** `x.ts` may import `x-handlers.ts` beside it: its handlers, split off to load on first use. */
  allowOwnLazyHandlers?: boolean
  why: string
}

export interface Violation {
  rule: string
  edge: Edge
}

const SOURCE = /\.(ts|mts|cts|js|mjs)$/

function walk(dir: string): string[] {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  return entries.flatMap((name) => {
    const path = join(dir, name)
    if (name === 'node_modules' || name.startsWith('.')) return []
    if (statSync(path).isDirectory()) return walk(path)
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

const posix = (p: string) => p.split(sep).join('/')

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** A relative specifier → the file it names (`./x.js` is `./x.ts` in this repo). */
function resolveRelative(root: string, fromFile: string, specifier: string): string {
  const target = posix(relative(root, join(dirname(join(root, fromFile)), specifier)))
  const candidates = [
    target,
    target.replace(/\.js$/, '.ts'),
    target.replace(/\.mjs$/, '.mts'),
    `${target}.ts`,
    `${target}/index.ts`,
  ]
  for (const c of candidates) {
    try {
      if (statSync(join(root, c)).isFile()) return c
    } catch {
      /* next */
    }
  }
  return target.replace(/\.js$/, '.ts')
}

/** Every import, export-from, import() and import('x').T of one file. */
export function importsOf(root: string, file: string): Edge[] {
  const text = readFileSync(join(root, file), 'utf8')
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS,
  )
  const edges: Edge[] = []
  const add = (node: ts.Node, specifier: string, kind: EdgeKind) => {
    if (specifier.startsWith('node:')) return
    const to = specifier.startsWith('.') ? resolveRelative(root, file, specifier) : packageName(specifier)
    edges.push({
      from: file,
      to,
      specifier,
      kind,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    })
  }
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)))
      add(node, node.moduleSpecifier.text, typeOnly ? 'type' : 'static')
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly ? 'type' : 'static')
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node, node.moduleReference.expression.text, node.isTypeOnly ? 'type' : 'static')
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node, node.arguments[0].text, 'dynamic')
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node, node.argument.literal.text, 'type')
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return edges
}

/** The graph of every source file under `dirs` (relative to `root`). */
export function importGraph(root: string, dirs: string[]): Edge[] {
  return dirs
    .flatMap((d) => walk(join(root, d)))
    .map((f) => posix(relative(root, f)))
    .sort()
    .flatMap((f) => importsOf(root, f))
}

/** Does `target` (a file path or a package name) match `pattern`? */
export function matches(pattern: Pattern, target: string): boolean {
  if (pattern.startsWith('pkg:')) {
    const p = pattern.slice(4)
    return p.endsWith('/*') ? target.startsWith(p.slice(0, -1)) : target === p
  }
  if (pattern.endsWith('/**')) return target.startsWith(pattern.slice(0, -2))
  return target === pattern
}

/** Edges that break a rule; type-only imports count unless the rule says `types: false`. */
export function violations(edges: Edge[], rules: Rule[]): Violation[] {
  const out: Violation[] = []
  for (const rule of rules) {
    for (const edge of edges) {
      if (!rule.from.some((p) => matches(p, edge.from))) continue
      if (rule.except?.some((p) => matches(p, edge.from))) continue
      if (rule.types === false && edge.kind === 'type') continue
      if (!rule.forbid.some((p) => matches(p, edge.to))) continue
      if (rule.allow?.some((p) => matches(p, edge.to))) continue
      if (rule.allowIndexOfOwnFolder && /(^|\/)index\.ts$/.test(edge.from) && dirname(edge.to) === dirname(edge.from))
        continue
      if (rule.allowOwnLazyHandlers && edge.to === edge.from.replace(/\.ts$/, '-handlers.ts')) continue
      out.push({ rule: rule.name, edge })
    }
  }
  return out
}

/**
 * Import cycles among files, over the edges of the given kinds (by default value imports: they
 * decide load order). Each cycle is listed once, starting at its smallest file name.
 */
export function cycles(edges: Edge[], kinds: EdgeKind[] = ['static']): string[][] {
  const next = new Map<string, Set<string>>()
  for (const e of edges) {
    if (!kinds.includes(e.kind) || !SOURCE.test(e.to)) continue
    if (!next.has(e.from)) next.set(e.from, new Set())
    next.get(e.from)!.add(e.to)
  }
  // Tarjan's strongly connected components: every component of more than one file (or a file
  // importing itself) holds a cycle.
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const strong = (v: string) => {
    idx.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || next.get(v)?.has(v)) found.push(component.sort())
    }
  }
  for (const v of [...next.keys()].sort()) if (!idx.has(v)) strong(v)
  return found.sort((a, b) => a[0].localeCompare(b[0]))
}

/** One line per violation, for a failure message a person can act on. */
export const describe = (v: Violation) =>
  `${v.rule}: ${v.edge.from}:${v.edge.line} imports ` +
  `${v.edge.specifier}${v.edge.kind === 'static' ? '' : ` (${v.edge.kind})`}`
