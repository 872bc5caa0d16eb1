/**
 * "Services speak domain, routes speak HTTP" (issue 16) as a check: the response header names the
 * HTTP edge renders (plugins/call-headers.ts) must not appear as strings below it, in services,
 * providers, stores or the neutral core. Comments may name them; string and template literals
 * may not. test/architecture/http-edge.test.ts runs it over app/ and planted trees.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import ts from 'typescript'

/** Folders below the HTTP edge. */
export const BELOW_THE_EDGE = ['app/services', 'app/providers', 'app/store', 'app/core']

/** Header names (or their prefixes) that only the edge may write. */
const EDGE_HEADERS = /^(retry-after|x-should-retry|x-ratelimit-|anthropic-ratelimit-|x-pennyworth-)/i

/**
 * Literals allowed where they name an upstream's header, not ours: file → literals.
 * A provider reads its upstream's `Retry-After` to tell the retry policy how long to wait.
 */
export const UPSTREAM_READS: Readonly<Record<string, readonly string[]>> = {
  'app/providers/bedrock/errors.ts': ['retry-after'],
}

/** One header name found below the edge. */
export interface HeaderLiteral {
  file: string
  line: number
  text: string
}

function tsFiles(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((n) => {
    const p = join(dir, n)
    if (statSync(p).isDirectory()) return tsFiles(p)
    return n.endsWith('.ts') ? [p] : []
  })
}

/** Every string or template literal (each template part) that names an edge header, in `dirs` under `root`. */
export function headerLiterals(root: string, dirs = BELOW_THE_EDGE): HeaderLiteral[] {
  const found: HeaderLiteral[] = []
  for (const path of dirs.flatMap((d) => tsFiles(join(root, d)))) {
    const file = relative(root, path).split(sep).join('/')
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node) => {
      if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
        const text = node.text.trim()
        if (EDGE_HEADERS.test(text) && !UPSTREAM_READS[file]?.includes(text.toLowerCase()))
          found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text })
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}
