/**
 * A model catalog file (PENNYWORTH_CATALOG=<path>) read and validated against the catalog
 * schema with ajv. Kept apart from services/catalog.ts so that the Lambda, which mostly serves
 * the bundled catalog, loads ajv only when a file is configured (app/lambda.ts).
 */
import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { Catalog } from '../schemas/catalog.js'
import { checkNames, loadCatalog } from './catalog.js'

let validateCatalog: ValidateFunction<Catalog> | undefined

/** Parses and validates a catalog document; `source` names it in error messages. */
export function parseCatalog(doc: unknown, source: string): Catalog {
  validateCatalog ??= new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile<Catalog>(Catalog)
  if (!validateCatalog(doc)) {
    const problems = (validateCatalog.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ')
    throw new Error(`Invalid model catalog ${source}: ${problems}`)
  }
  return checkNames(doc, source)
}

/** The file PENNYWORTH_CATALOG names, or the bundled catalog when `path` is empty. */
export function loadCatalogFile(path?: string): Catalog {
  if (!path) return loadCatalog()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`PENNYWORTH_CATALOG: cannot read ${path}: ${(err as Error).message}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new Error(`PENNYWORTH_CATALOG: ${path} is not valid JSON: ${(err as Error).message}`)
  }
  return parseCatalog(doc, path)
}
