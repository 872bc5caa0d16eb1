/**
 * Every generated region of docs/*.md: which page holds it, where its content comes from, and
 * the function that renders it. `npm run docs:generate` writes them; the docs test checks them.
 */
import { CONFIG_REGION, configTable } from '../config-docs.js'
import { bedrockErrorsByStatusTable, bedrockErrorsTable, nonAwsRepliesTable } from './error-tables.js'
import { chatParametersTable, messagesParametersTable, responsesParametersTable } from './parameter-tables.js'

/** One generated region. */
export interface GeneratedRegion {
  /** The marker's name: `<!-- generated:NAME … -->`. */
  name: string
  /** The page, relative to docs/. */
  page: string
  /** The file it is generated from, named in the opening marker. */
  source: string
  render: () => string
}

export const REGIONS: readonly GeneratedRegion[] = [
  { ...CONFIG_REGION, page: 'configuration.md', render: configTable },
  {
    name: 'chat-parameters',
    page: 'api-and-parameters.md',
    source: 'app/doors/openai-chat/params.ts',
    render: chatParametersTable,
  },
  {
    name: 'responses-parameters',
    page: 'api-and-parameters.md',
    source: 'app/doors/openai-responses/params.ts',
    render: responsesParametersTable,
  },
  {
    name: 'messages-parameters',
    page: 'api-and-parameters.md',
    source: 'app/doors/anthropic/params.ts',
    render: messagesParametersTable,
  },
  {
    name: 'bedrock-errors',
    page: 'upstream-errors.md',
    source: 'app/providers/bedrock/errors.ts',
    render: bedrockErrorsTable,
  },
  {
    name: 'bedrock-errors-by-status',
    page: 'upstream-errors.md',
    source: 'app/providers/bedrock/errors.ts',
    render: bedrockErrorsByStatusTable,
  },
  {
    name: 'non-aws-replies',
    page: 'upstream-errors.md',
    source: 'app/providers/bedrock/errors.ts',
    render: nonAwsRepliesTable,
  },
]
