/**
 * Cold start of the Lambda bundle against a bare fastify + @fastify/aws-lambda + Bedrock/DynamoDB
 * SDK bundle built the same way (scripts/cold-start.ts), in interleaved rounds: each sample is a
 * fresh `node` that imports the bundle (the app's `ready()` included) and hands the handler one
 * GET /health event. Prints medians and minima of both, their ratio and the issue-15 target
 * (import + ready ≤ 1.2 × bare) as met / NOT MET. Not a test.
 *
 *   npx tsx scripts/bench/cold-start.ts        # or: BENCH_CELLS=cold npm run bench
 *
 * COLD_SAMPLES (default 40 per bundle) sizes it. Minima are the least disturbed by other load on
 * the machine; the ratio of medians is printed beside them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildLambda, ROOT } from '../build-lambda.js'
import { buildBareBundle, coldStartSample, stats, type ColdSample } from '../cold-start.js'

/** What the app needs to start (infra sets it on the function); nothing is called at start. */
export const COLD_ENV: Record<string, string> = {
  AWS_REGION: 'us-west-2',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'token',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  PENNYWORTH_KEYS_TABLE: 'cold-keys',
  PENNYWORTH_USAGE_TABLE: 'cold-usage',
  PENNYWORTH_RATE_LIMITS_TABLE: 'cold-rate-limits',
  PENNYWORTH_AUDIT_TABLE: 'cold-audit',
  PENNYWORTH_RESPONSES_TABLE: 'cold-responses',
  PENNYWORTH_OAUTH_TABLE: 'cold-oauth',
  PENNYWORTH_PUBLIC_URL: 'https://api.example.com',
  PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_Example',
  PENNYWORTH_COGNITO_CLIENT_ID: 'exampleclientid',
  PENNYWORTH_LOG_LEVEL: 'silent',
  PENNYWORTH_LAMBDA_STREAMING: 'true',
}

export interface ColdStartResult {
  samples: number
  app: { bytes: number; importMs: { median: number; min: number }; firstMs: { median: number; min: number } }
  bare: { bytes: number; importMs: { median: number; min: number }; firstMs: { median: number; min: number } }
  /** app / bare import + ready, by minima and by medians. */
  ratio: { min: number; median: number }
  load: [number, number]
}

/** Builds both bundles, measures `samples` cold starts of each, interleaved (order alternating). */
export async function measureColdStart(samples: number): Promise<ColdStartResult> {
  const dir = await mkdtemp(join(ROOT, 'node_modules', '.cold-start-'))
  try {
    const [app, bare] = await Promise.all([
      buildLambda({ outdir: await mkdtemp(join(tmpdir(), 'cold-start-app-')), console: false }),
      buildBareBundle(dir),
    ])
    const load0 = loadavg()[0]
    const appSamples: ColdSample[] = []
    const bareSamples: ColdSample[] = []
    const one = async (which: 'app' | 'bare') =>
      which === 'app'
        ? appSamples.push(await coldStartSample(app.outfile, COLD_ENV, { request: true }))
        : bareSamples.push(await coldStartSample(bare.outfile, COLD_ENV, { request: true }))
    // A warm file cache for both before counting.
    await one('app')
    await one('bare')
    appSamples.length = bareSamples.length = 0
    for (let i = 0; i < samples; i++) {
      const order: Array<'app' | 'bare'> = i % 2 === 0 ? ['app', 'bare'] : ['bare', 'app']
      for (const which of order) await one(which)
    }
    await rm(app.outdir, { recursive: true, force: true })
    const summary = (xs: ColdSample[], bytes: number) => ({
      bytes,
      importMs: stats(xs.map((s) => s.importMs)),
      firstMs: stats(xs.map((s) => s.firstRequestMs ?? NaN)),
    })
    const a = summary(
      appSamples,
      app.coldStart.reduce((s, f) => s + f.bytes, 0),
    )
    const b = summary(bareSamples, bare.coldBytes)
    return {
      samples,
      app: a,
      bare: b,
      ratio: { min: a.importMs.min / b.importMs.min, median: a.importMs.median / b.importMs.median },
      load: [load0, loadavg()[0]],
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The target of issue 15: cold import + ready ≤ 1.2 × the bare bundle's. */
export const COLD_TARGET = 1.2

export function printColdStart(r: ColdStartResult): void {
  const ms = (s: { median: number; min: number }) => `${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)})`
  console.log(
    `cold start ${new Date().toISOString().slice(0, 16)}Z: ${r.samples} fresh node processes per bundle, ` +
      `interleaved; Node ${process.version}, ${cpus().length} × ${cpus()[0]!.model}; load average at ` +
      `start ${r.load[0].toFixed(2)}, at end ${r.load[1].toFixed(2)}`,
  )
  console.log('| bundle | cold-start bytes | import + ready, median (min) | first GET /health, median (min) |')
  console.log('| --- | --- | --- | --- |')
  for (const [name, s] of [
    ['bare fastify + @fastify/aws-lambda + SDK clients', r.bare],
    ['pennyworth', r.app],
  ] as const)
    console.log(`| ${name} | ${s.bytes} | ${ms(s.importMs)} | ${ms(s.firstMs)} |`)
  console.log(
    `ratio import + ready, pennyworth / bare: ${r.ratio.min.toFixed(3)} by minima, ` +
      `${r.ratio.median.toFixed(3)} by medians`,
  )
  console.log(
    `${r.ratio.min <= COLD_TARGET ? 'met    ' : 'NOT MET'}  cold import + ready ≤ ${COLD_TARGET} × bare (minima)`,
  )
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  printColdStart(await measureColdStart(Number(process.env.COLD_SAMPLES ?? 40)))
}
