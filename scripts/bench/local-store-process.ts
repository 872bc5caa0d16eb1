/**
 * `npm start`'s gateway for scripts/bench/local-store.ts: startLocalServer with npm start's
 * defaults and the environment given (PENNYWORTH_LOCAL_STORE picks where the embedded store
 * runs), plus an event-loop delay monitor of this (the request) thread. Talks over IPC:
 * sends `{ ready: { url, key, storePid } }`; answers `'reset'` and `'eld'` (delay p50/p99/max
 * in ms since the last reset).
 */
import '../../app/lib/sdk-node-warning.js' // first: before any AWS SDK client exists
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { loadConfig } from '../../app/config.js'
import { LOCAL_DEFAULTS, startLocalServer } from '../../app/server.js'

const server = await startLocalServer(loadConfig(process.env, LOCAL_DEFAULTS), process.env)
const eld = monitorEventLoopDelay({ resolution: 5 })
eld.enable()
const ms = (ns: number) => ns / 1e6
process.on('message', (m) => {
  if (m === 'reset') eld.reset()
  if (m === 'eld')
    process.send!({ eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) } })
})
process.send!({ ready: { url: server.url, key: server.devKey, storePid: server.store?.pid } })
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
