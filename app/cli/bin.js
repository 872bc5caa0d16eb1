#!/usr/bin/env node
// The `pennyworth` command. The CLI is TypeScript; tsx compiles it on the fly, so there is no
// build step between a checkout and a working command.
import { register } from 'tsx/esm/api'

register()
await import('../lib/sdk-node-warning.ts') // before any AWS SDK client exists
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv.slice(2))
