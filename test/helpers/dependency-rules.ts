/**
 * The dependency rule of docs/architecture.md, as data (test/architecture/dependency-rule.test.ts
 * checks it on every `npm test`). Folders that do not exist yet (app/core, app/doors) are named
 * already: the rule holds the day they appear.
 *
 *   routes → services → providers | store; core is the neutral call model everyone may use.
 */
import type { Rule } from './import-graph.js'

/** The only files that build or pass the AWS SDK's DynamoDB clients besides app/store/. */
export const WIRING = ['app/app.ts', 'app/server.ts', 'app/clients.ts', 'app/lambda.ts']

const FASTIFY = ['pkg:fastify', 'pkg:@fastify/*', 'pkg:fastify-plugin']
const DYNAMODB_SDK = ['pkg:@aws-sdk/client-dynamodb', 'pkg:@aws-sdk/lib-dynamodb']

export const RULES: Rule[] = [
  {
    name: 'routes never import routes',
    from: ['app/routes/**'],
    forbid: ['app/routes/**'],
    allowIndexOfOwnFolder: true,
    allowOwnLazyHandlers: true,
    why: 'a route is an edge of the app; what two routes share belongs in a service, a plugin or lib/',
  },
  {
    name: 'below the routes nothing imports Fastify',
    from: ['app/services/**', 'app/providers/**', 'app/store/**', 'app/core/**', 'app/doors/**'],
    forbid: FASTIFY,
    why:
      'use cases, providers, stores, the neutral model and the wire codecs run without a ' +
      'web server (Lambda, CLI, tests)',
  },
  {
    name: 'only the store and the wiring touch the DynamoDB SDK',
    from: ['app/**', 'infra/**'],
    except: ['app/store/**', ...WIRING],
    forbid: DYNAMODB_SDK,
    why: 'one place knows the tables; the rest talks to stores',
  },
  {
    name: 'providers never import doors, routes, services or stores',
    from: ['app/providers/**'],
    forbid: ['app/doors/**', 'app/routes/**', 'app/services/**', 'app/store/**', 'app/plugins/**', 'app/mcp/**'],
    why: 'a provider encodes the neutral call for its upstream; it knows nothing of who asked or where it is kept',
  },
  {
    name: 'stores never import providers, doors, routes or services',
    from: ['app/store/**'],
    forbid: ['app/providers/**', 'app/doors/**', 'app/routes/**', 'app/services/**', 'app/plugins/**', 'app/mcp/**'],
    why: 'a store persists; it is called, it calls nothing above it',
  },
  {
    name: 'services never import routes, plugins or doors',
    from: ['app/services/**'],
    forbid: ['app/routes/**', 'app/plugins/**', 'app/doors/**'],
    why: 'services speak the neutral model and the domain; HTTP and wire formats stay at the edge',
  },
  {
    name: 'doors never import providers, stores or routes',
    from: ['app/doors/**'],
    forbid: ['app/providers/**', 'app/store/**', 'app/routes/**'],
    why: 'a front door translates its wire format to and from the neutral model, nothing else (N doors + M providers)',
  },
  {
    name: 'the neutral core imports no layer',
    from: ['app/core/**'],
    forbid: [
      'app/routes/**',
      'app/services/**',
      'app/providers/**',
      'app/store/**',
      'app/doors/**',
      'app/plugins/**',
      'app/mcp/**',
      'pkg:@aws-sdk/*',
      ...FASTIFY,
    ],
    why: 'every layer depends on the call model; it depends on none of them',
  },
  {
    name: 'app/ never imports infra/',
    from: ['app/**'],
    forbid: ['infra/**'],
    why: 'the gateway runs without its deployment code',
  },
  {
    name: 'infra/ never imports app/',
    from: ['infra/**'],
    forbid: ['app/**'],
    // The names of the Lambda's environment variables: a module without imports, so infra sets
    // exactly what app/config.ts reads.
    allow: ['app/config-env.ts'],
    why: 'infra bundles app/ and reads the catalog as data; importing it would load the app into the Pulumi program',
  },
]

/**
 * Violations found when the check was written (2026-11-29), each with where it should go. The
 * test fails on any other violation, and on an entry here that no longer occurs (delete it then).
 * Format: `<from> -> <specifier>`.
 */
export const KNOWN_VIOLATIONS: Record<string, string> = {}
