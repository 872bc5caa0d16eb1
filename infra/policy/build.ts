/**
 * Builds the runnable policy pack: dist/policy-pack/{index.js, package.json, PulumiPolicy.yaml,
 * node_modules → ../../node_modules}.
 *
 *   npm run build:policy && pulumi up --policy-pack dist/policy-pack
 *
 * Why a build: the CLI's Node.js policy runner `require()`s the pack and registers its own
 * (CommonJS) ts-node, which cannot load this repository's ESM TypeScript. A CommonJS bundle of
 * the rules runs as is; @pulumi/policy and @pulumi/pulumi stay external and resolve through the
 * node_modules link (the runner looks for node_modules/@pulumi/pulumi inside the pack).
 */
import { build } from 'esbuild'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export async function buildPolicyPack(outdir = resolve(ROOT, 'dist/policy-pack')): Promise<string> {
  await rm(outdir, { recursive: true, force: true })
  await mkdir(outdir, { recursive: true })
  await build({
    entryPoints: [resolve(ROOT, 'infra/policy/index.ts')],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@pulumi/policy', '@pulumi/pulumi'],
    logLevel: 'warning',
  })
  await writeFile(
    join(outdir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'pennyworth-policy-pack',
        version: '1.0.0',
        private: true,
        type: 'commonjs',
        main: 'index.js',
      },
      null,
      2,
    )}\n`,
  )
  await writeFile(
    join(outdir, 'PulumiPolicy.yaml'),
    [
      'description: Pennyworth infrastructure rules (built from infra/policy by infra/policy/build.ts)',
      'runtime: nodejs',
      '',
    ].join('\n'),
  )
  await symlink(relative(outdir, resolve(ROOT, 'node_modules')), join(outdir, 'node_modules'), 'dir')
  return outdir
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(await buildPolicyPack(process.argv[2] ? resolve(process.argv[2]) : undefined))
}
