/** Property-based test of the Anthropic Messages door (issue 14 item 3): see test/helpers/fuzz-doors.ts. */
import t from 'tap'
import { fuzzDoor } from '../helpers/fuzz-doors.js'

// 10,000 bodies take 10–70 s here depending on the door and the machine's load (docs/testing.md).
t.setTimeout(300_000)
await fuzzDoor(t, 'messages')
