/** infra/bundle.ts: the Lambda code archive holds every file of the bundle directory. */
import t from 'tap'
import * as pulumi from '@pulumi/pulumi'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundleFiles, lambdaCode } from '../../infra/bundle.js'

function bundleDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-test-'))
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    writeFileSync(join(dir, f), `// ${f}\n`)
  }
  return dir
}

t.test('every file, chunks in subdirectories included, as /-separated archive paths', async (t) => {
  const files = [
    'index.mjs',
    'index.mjs.map',
    'chunks/server-AB12.mjs',
    'chunks/server-AB12.mjs.map',
    'chunks/chunk-CD34.mjs',
  ]
  const dir = bundleDir(files)
  t.same(bundleFiles(dir), [...files].sort())
  const archive = lambdaCode(dir)
  t.ok(archive instanceof pulumi.asset.AssetArchive)
  const assets = (await archive.assets) as Record<string, pulumi.asset.FileAsset>
  t.same(Object.keys(assets).sort(), [...files].sort())
  t.equal(await assets['chunks/server-AB12.mjs']!.path, join(dir, 'chunks/server-AB12.mjs'))
})

t.test('no built entry: the deployment fails with what to do', async (t) => {
  const dir = bundleDir(['chunks/chunk-CD34.mjs'])
  t.throws(() => lambdaCode(dir), /index\.mjs not found: run "npm run build" before pulumi/)
})
