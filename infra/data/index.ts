/**
 * The data program (project `pennyworth-data`, infra/data/Pulumi.yaml): the app's DynamoDB
 * tables, protected and retained. Deployed by an admin, rarely. Exports the tables' names and
 * ARNs for the edge.
 */
import { Data } from '../components/data.js'
import { startProgram, type DataOutputs } from '../program.js'

const { cfg, provider, account } = await startProgram('data')

const data = new Data(
  'data',
  { namePrefix: cfg.namePrefix, protect: cfg.protectData },
  { providers: { aws: provider } },
)

export const awsRegion: DataOutputs['awsRegion'] = account.region
export const namePrefix: DataOutputs['namePrefix'] = cfg.namePrefix
export const tableNames = data.tableNames
export const tableArns = data.tableArns
