// Preloaded into Portkey's gateway for the benchmark (node --require): it listens on every
// interface by default; force 127.0.0.1 and report the address actually bound.
const net = require('node:net')
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'object' && args[0] !== null) args[0] = { ...args[0], host: '127.0.0.1' }
  else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const port = args[0]
    const rest = args.slice(1).filter((a) => typeof a !== 'string')
    args = [port, '127.0.0.1', ...rest]
  }
  this.once('listening', () => {
    const a = this.address()
    process.stdout.write(`BOUND ${a.address} ${a.port}\n`)
  })
  return listen.apply(this, args)
}
