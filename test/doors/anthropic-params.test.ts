/** docs/api-and-parameters.md's Messages parameter table is the door's own decision table, row for row. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { MESSAGES_PARAMETER_POLICY } from '../../app/doors/anthropic/params.js'

t.test(
  'every Messages field decision is documented in docs/api-and-parameters.md as written in the code',
  async (t) => {
    const readme = readFileSync(new URL('../../docs/api-and-parameters.md', import.meta.url), 'utf8')
    for (const [field, note] of Object.entries(MESSAGES_PARAMETER_POLICY)) {
      t.ok(readme.includes(`| \`${field}\` | ${note.replace(/\|/g, '\\|')} |`), field)
    }
  },
)
