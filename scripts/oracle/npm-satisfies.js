'use strict'
// Oracle helper for scripts/range-oracle.py (npm): reads JSON lines {"range": "...",
// "version": "..."} on stdin and prints, per line, "1" or "0" =
// semver.satisfies(version, range, {includePrerelease: true}), or "E<TAB>message" when
// new SemVer(version) or new Range(range) throws (semver.satisfies itself would just say
// false). Strict parsing (loose=false). Uses Debian's node-semver.
const semver = require('/usr/share/nodejs/semver')
const opts = { includePrerelease: true }
const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim()
const input = require('fs').readFileSync(0, 'utf8')
const lines = input.split('\n')
if (lines.length && lines[lines.length - 1] === '') lines.pop()
const out = lines.map((line) => {
  const c = JSON.parse(line)
  try {
    new semver.SemVer(c.version, opts) // eslint-disable-line no-new
  } catch (e) {
    return `E\tinvalid version ${JSON.stringify(c.version)}: ${oneLine(e.message)}`
  }
  try {
    new semver.Range(c.range, opts) // eslint-disable-line no-new
  } catch (e) {
    return `E\tinvalid range ${JSON.stringify(c.range)}: ${oneLine(e.message)}`
  }
  return semver.satisfies(c.version, c.range, opts) ? '1' : '0'
})
process.stdout.write(out.map((s) => s + '\n').join(''))
