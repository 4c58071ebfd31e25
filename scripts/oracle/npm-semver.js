'use strict'
// Oracle helper for scripts/version-oracle.py (npm): reads "a<TAB>b" lines on stdin and
// prints, per line, semver.compare(a, b) (-1, 0 or 1) or "x" when either version fails
// semver.valid in strict mode (loose=false). Uses Debian's node-semver.
const semver = require('/usr/share/nodejs/semver')
const input = require('fs').readFileSync(0, 'utf8')
const lines = input.split('\n')
if (lines.length && lines[lines.length - 1] === '') lines.pop()
const out = lines.map((line) => {
  const [a, b] = line.split('\t')
  if (semver.valid(a, false) === null || semver.valid(b, false) === null) return 'x'
  return String(semver.compare(a, b, false))
})
process.stdout.write(out.map((s) => s + '\n').join(''))
