/** docs/configuration.md's table is app/config.ts's SETTINGS, generated; a difference fails. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ENV, loadConfig, SETTINGS } from '../../app/config.js'
import { CONFIG_DOC, configTable, withTable } from '../../scripts/config-docs.js'

t.test('the docs table is the one generated from app/config.ts (npm run docs:config)', async (t) => {
  const page = readFileSync(CONFIG_DOC, 'utf8')
  t.equal(withTable(page), page)
  t.ok(page.includes(configTable()))
})

t.test('a changed setting or a hand-edited row is a difference', async (t) => {
  const page = readFileSync(CONFIG_DOC, 'utf8')
  const edited = page.replace('| `PORT` | `8787` |', '| `PORT` | `8080` |')
  t.not(edited, page, 'the row was there to edit')
  t.not(withTable(edited), edited, 'a hand edit is seen')
  t.throws(() => withTable('# no markers'), /markers/)
})

t.test('every variable has a row, and the shown defaults are the parsed ones', async (t) => {
  const table = configTable()
  for (const env of Object.values(ENV)) t.ok(table.includes(`| \`${env}\` |`), env)
  const c = loadConfig({})
  t.equal(SETTINGS.port.parse.shown, `\`${c.port}\``)
  t.equal(SETTINGS.host.parse.shown, `\`${c.host}\``)
  t.equal(SETTINGS.keysTable.parse.shown, `\`${c.tables.keys}\``)
  t.equal(SETTINGS.meteringFoldAt.parse.shown, `\`${c.meteringFoldAt}\``)
  t.equal(SETTINGS.logLevel.parse.shown, `\`${c.logLevel}\``)
})
