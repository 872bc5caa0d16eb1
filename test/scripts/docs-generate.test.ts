/** Every generated region of docs/*.md is what the code renders; a difference fails. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REGIONS } from '../../scripts/docs/index.js'
import { endMarker, regionNames, startMarker, withRegion } from '../../scripts/docs/regions.js'
import { DOCS_DIR, generatedPage, staleDocs } from '../../scripts/docs-generate.js'

const read = (page: string) => readFileSync(join(DOCS_DIR, page), 'utf8')

t.test('the docs are the ones generated from the code (npm run docs:generate)', async (t) => {
  t.same(
    staleDocs().map((p) => p.page),
    [],
  )
  for (const r of REGIONS) {
    const page = read(r.page)
    t.ok(page.includes(`${startMarker(r.name, r.source)}\n${r.render()}\n${endMarker(r.name)}`), r.name)
  }
})

t.test('every region is registered once and found in its page once', async (t) => {
  const names = REGIONS.map((r) => r.name)
  t.same(names, [...new Set(names)], 'no name twice')
  for (const r of REGIONS)
    t.same(
      regionNames(read(r.page)).filter((n) => n === r.name),
      [r.name],
      r.name,
    )
})

t.test('a hand edit inside a region is a difference; outside it is not', async (t) => {
  const page = read('api-and-parameters.md')
  const inside = page.replace('| `seed` | ignored |', '| `seed` | yes |')
  t.not(inside, page, 'the row was there to edit')
  t.not(generatedPage('api-and-parameters.md', inside), inside)
  const outside = page.replace('## Prompt caching', '## Prompt caching!')
  t.equal(generatedPage('api-and-parameters.md', outside), outside)
  const errors = read('upstream-errors.md')
  const edited = errors.replace('| `ThrottlingException` | 429 |', '| `ThrottlingException` | 503 |')
  t.not(edited, errors)
  t.equal(generatedPage('upstream-errors.md', edited), errors, 'regenerating restores the row')
})

t.test('missing markers and unknown regions are errors naming the page', async (t) => {
  const page = read('upstream-errors.md')
  t.throws(() => generatedPage('upstream-errors.md', page.replace(endMarker('bedrock-errors'), '')), {
    message: /docs\/upstream-errors\.md: the markers .*generated:bedrock-errors/,
  })
  t.throws(() => generatedPage('testing.md', '<!-- generated:nonesuch -->\n<!-- /generated:nonesuch -->'), {
    message: /docs\/testing\.md: unknown generated region\(s\) nonesuch/,
  })
  t.throws(() => withRegion('# nothing', 'x', 'y', 'z'), /markers/)
})
