#!/usr/bin/env node
// The `pennyworth` command. The CLI is TypeScript; tsx compiles it on the fly, so there is no
// build step between a checkout and a working command.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./main.ts')
process.exitCode = await main(process.argv.slice(2))
