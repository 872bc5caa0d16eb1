/**
 * The Lambda's code: every file `npm run build` wrote to the bundle directory, i.e. the entry
 * `index.mjs` (handler `index.handler`), the chunks it loads at start or on first use
 * (`chunks/*.mjs`: the MCP SDK, the Cognito client, jose …) and their source maps. A missing
 * chunk would only fail when a request first needs it, so the whole directory is archived,
 * never a list of known names.
 */
import * as pulumi from '@pulumi/pulumi'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

/** The files of `dir`, recursively, as archive paths (`/`-separated, relative to `dir`), sorted. */
export function bundleFiles(dir: string): string[] {
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(at, e.name))
        : e.isFile()
          ? [relative(dir, join(at, e.name)).split(sep).join('/')]
          : [],
    )
  return walk(dir).sort()
}

/** The archive of the bundle directory; fails the deployment when there is no built entry. */
export function lambdaCode(dir: string): pulumi.asset.AssetArchive {
  const entry = join(dir, 'index.mjs')
  if (!existsSync(entry)) throw new pulumi.RunError(`${entry} not found: run "npm run build" before pulumi`)
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(bundleFiles(dir).map((file) => [file, new pulumi.asset.FileAsset(join(dir, file))])),
  )
}
