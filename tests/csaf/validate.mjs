// The reference CSAF 2.0 validator for Haechi's tests: every CSAF document Haechi emits
// must pass the BSI/Secvisogram validator library (@secvisogram/csaf-validator-lib,
// pinned in package-lock.json, installed by scripts/setup-test-tools), which implements
// the specification's JSON schema (strict: unknown properties are errors) and all of its
// mandatory tests (section 6.1 of CSAF 2.0). Optional and informative tests are not run,
// and warnings are left out. Works offline: the CVSS schemas the CSAF schema refers to
// are bundled with the library.
//
//   node tests/csaf/validate.mjs FILE...
//
// prints one JSON line per file,
//   {"file": F, "isValid": bool, "errors": [{"test": name, "instancePath": p, "message": m}, ...]}
// (schema errors also carry the schema validator's "params", e.g. the name of an unknown
// property), and exits 0 if every file is valid, 1 if any is not (or cannot be read or
// parsed), 2 if the library is missing or no file was given.
import { readFile } from 'node:fs/promises'

const LIB = '@secvisogram/csaf-validator-lib'

if (process.argv.length < 3) {
  console.error('usage: node tests/csaf/validate.mjs FILE...')
  process.exit(2)
}

// validate.js rather than validateStrict.js: the tests run are the library's own, and
// validateStrict.js loads the optional and informative tests too (seconds of start-up).
let validate, schemaTests, mandatoryTests
try {
  validate = (await import(`${LIB}/validate.js`)).default
  schemaTests = await import(`${LIB}/schemaTests.js`)
  mandatoryTests = await import(`${LIB}/mandatoryTests.js`)
} catch (e) {
  console.error(
    `${LIB} is not installed (${e.code ?? e.message}); run scripts/setup-test-tools`
  )
  process.exit(2)
}

// The strict schema test includes everything the plain csaf_2_0 one checks, so only it
// runs; then every mandatory test, in the specification's order.
const section = (f) => f.name.replace(/^\D+/, '').split('_').map(Number)
const mandatory = Object.values(mandatoryTests).sort((a, b) => {
  const x = section(a)
  const y = section(b)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1)
  }
  return 0
})
const tests = [schemaTests.csaf_2_0_strict, ...mandatory]

let allValid = true
for (const file of process.argv.slice(2)) {
  let line
  let doc
  try {
    doc = JSON.parse(await readFile(file, 'utf8'))
  } catch (e) {
    line = {
      file,
      isValid: false,
      errors: [
        {
          test: e instanceof SyntaxError ? 'json' : 'read',
          instancePath: '',
          message: e.message,
        },
      ],
    }
  }
  if (!line) {
    // One test at a time, so that a test that throws (some do on documents far from
    // CSAF, e.g. `null`) is reported as that test's failure and the others still run.
    let isValid = true
    const errors = []
    for (const test of tests) {
      let result
      try {
        result = (await validate([test], doc)).tests[0]
      } catch (e) {
        result = {
          isValid: false,
          errors: [{ instancePath: '', message: `the test threw: ${e}` }],
        }
      }
      isValid &&= result.isValid
      for (const err of result.errors) {
        const e = {
          test: test.name,
          instancePath: err.instancePath,
          message: err.message,
        }
        if (err.params && Object.keys(err.params).length) e.params = err.params
        errors.push(e)
      }
      // A failed test always explains itself, but make sure a failure is never silent.
      if (!result.isValid && result.errors.length === 0) {
        errors.push({ test: test.name, instancePath: '', message: 'test failed' })
      }
    }
    line = { file, isValid, errors }
  }
  allValid &&= line.isValid
  console.log(JSON.stringify(line))
}
process.exit(allValid ? 0 : 1)
