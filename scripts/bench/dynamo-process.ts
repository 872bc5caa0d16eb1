/**
 * The benchmark's DynamoDB stand-in in its own process: in AWS the store is remote, so its
 * CPU must not be charged to the gateway under test. Prints its endpoint on stdout.
 */
import { startEmbeddedDynamo } from '../../app/store/embedded.js'

const store = await startEmbeddedDynamo()
process.stdout.write(`${store.endpoint}\n`)
process.on('SIGTERM', () => void store.close().then(() => process.exit(0)))
