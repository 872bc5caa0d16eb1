/**
 * The embedded DynamoDB-API store (dynalite) off the gateway's event loop: the entry of the
 * worker thread or child process that app/store/embedded.ts starts. Plain JavaScript on
 * purpose: it runs without a TypeScript loader (Node 20 workers do not inherit tsx's hooks),
 * so it starts in the same ~tens of ms under `npm start`, tap and the CLI.
 *
 * Protocol (worker: parentPort; child: the IPC channel):
 * in: the start options `{ options, port }` (child: first message; worker: workerData) and
 * `'close'`; out: `{ endpoint }` once listening, `{ error }` if it cannot start.
 * A child also stops when its parent goes away (the IPC channel disconnects, even on SIGKILL),
 * and ignores SIGINT: Ctrl-C reaches the whole process group, and the parent still needs the
 * store while it drains in-flight requests and their metering.
 */
import { parentPort, workerData } from 'node:worker_threads'
import dynalite from 'dynalite'

const send = parentPort ? (m) => parentPort.postMessage(m) : (m) => process.send?.(m)
let server

function start({ options, port }) {
  server = dynalite(options)
  server.once('error', (err) => {
    send({ error: err.message })
    stop()
  })
  server.listen(port, '127.0.0.1', () => send({ endpoint: `http://127.0.0.1:${server.address().port}` }))
}

let stopping = false
function stop() {
  if (stopping) return
  stopping = true
  const done = () => {
    if (parentPort) parentPort.close()
    else process.exit(0)
  }
  if (!server?.listening) return done()
  // dynalite's close() also closes LevelDB; idle keep-alive sockets would hold it open.
  server.close(done)
  server.closeAllConnections()
}

if (parentPort) {
  parentPort.on('message', (m) => m === 'close' && stop())
  start(workerData)
} else {
  process.on('SIGINT', () => {})
  process.on('SIGTERM', stop)
  process.on('disconnect', stop)
  process.on('message', (m) => (m === 'close' ? stop() : start(m)))
}
