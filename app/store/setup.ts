/** Creates missing tables (local mode and tests; in AWS the tables come from infra/data.ts). */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { tableDefinitions, type TableNames } from './tables.js'

export async function ensureTables(client: DynamoDBDocumentClient, names: TableNames): Promise<string[]> {
  const created: string[] = []
  for (const def of Object.values(tableDefinitions(names))) {
    try {
      await client.send(new DescribeTableCommand({ TableName: def.TableName }))
      continue
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err
    }
    try {
      await client.send(new CreateTableCommand(def))
      created.push(def.TableName!)
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err
    }
  }
  return created
}
