// The SME self-assessment page as a small company uses it, in headless Chromium
// (Debian's package) driven by playwright-core. Started by
// crates/haechi/tests/sme_portal.rs, which runs `haechi serve` with `[sme] enabled`
// and passes:
//   BASE          the server's URL
//   LOCKFILE      a real composer.lock with a KEV-listed vulnerability
//   SCREENSHOTS   where the screenshots and the PDF go
// Exits non-zero with the reason at the first expectation that does not hold.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';

const env = name => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env('BASE');
const SHOTS = env('SCREENSHOTS');
mkdirSync(SHOTS, { recursive: true });

function expect(cond, message) {
  if (!cond) throw new Error('expectation failed: ' + message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  timeout: 60_000,
});
const errors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  const shot = name => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  // 1. The empty form refuses to send without a company name.
  await page.goto(BASE + '/sme');
  await page.waitForSelector('#sme');
  expect(await page.locator('.question').count() === 24, 'the form asks 24 questions');
  await page.click('#submit');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('company'));
  expect(await page.getAttribute('#status', 'class') === 'error', 'the missing name is shown as an error');

  // 2. A company answers: strong on accounts, weak on backups, one question skipped.
  await page.fill('#company', 'Hangang Bakery Co.');
  await page.fill('#contact', 'it@hangang.example');
  for (const q of await page.locator('.question').all()) {
    const id = await q.getAttribute('data-question');
    if (id === 'incident-training') continue;
    const value = id.startsWith('backup-') ? 'no' : id.startsWith('access-') ? 'yes' : 'partly';
    await q.locator(`input[value="${value}"]`).check();
  }
  await page.setInputFiles('#files', env('LOCKFILE'));
  await shot('sme-01-form');
  await page.click('#submit');
  await page.waitForURL(/\/sme\/report\//);
  await page.waitForSelector('#areas');

  // 3. The report: scores per area, the KEV finding first, steps, the patch plan.
  const overall = Number(await page.textContent('#overall'));
  expect(overall > 0 && overall < 100, `an overall score between 0 and 100: ${overall}`);
  const rows = await page.locator('#areas tr').allTextContents();
  expect(rows.some(r => r.includes('Accounts, passwords and MFA') && r.includes('100')), `accounts score 100: ${rows}`);
  expect(rows.includes('Backups and recovery0'), `backups score 0: ${rows}`);
  expect(rows.some(r => r.includes('Vulnerabilities and patches') && r.includes('capped')), `patching is capped by the KEV finding: ${rows}`);
  const first = await page.locator('#findings tr').nth(1).textContent();
  expect(first.includes('facade/ignition') && first.includes('known exploited'), `the KEV finding comes first: ${first}`);
  expect((await page.textContent('#plans')).includes('composer require facade/ignition'), 'the patch plan says how to upgrade');
  const steps = await page.locator('#steps li').allTextContents();
  expect(steps[0].includes('known-exploited'), `the first step is the KEV fix: ${steps[0]}`);
  expect(steps.some(s => s.includes('offline')), 'a step for the missing offline backup');
  await shot('sme-02-report');

  // 4. Print-ready: the print button is hidden on paper and the PDF renders.
  await page.emulateMedia({ media: 'print' });
  expect(!(await page.isVisible('#print')), 'the print button is not printed');
  await shot('sme-03-report-print');
  await page.pdf({ path: `${SHOTS}/sme-report.pdf`, format: 'A4', printBackground: true });
  const pdf = readFileSync(`${SHOTS}/sme-report.pdf`);
  expect(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 20_000, `a PDF of the report (${pdf.length} bytes)`);
  expect(errors.length === 0, `no script errors: ${errors}`);
  console.log('sme browser test: all expectations held');
} finally {
  await browser.close();
}
