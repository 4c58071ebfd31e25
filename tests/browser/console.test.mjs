// The console as control officers use it, in headless Chromium (Debian's package)
// driven by playwright-core. Started by crates/haechi/tests/console_browser.rs, which
// runs `haechi serve` with users, a rule and an approval playbook, and passes:
//   BASE         the server's URL
//   CENTER_USER, CENTER_PASSWORD          a center analyst
//   SEOUL_USER, SEOUL_PASSWORD            an institution analyst of `seoul`
//   INGEST_TOKEN an API token that may ingest for any institution
//   BUSAN_ATTACKER  an address only Busan's events carry (already stored)
//   SCREENSHOTS  where the screenshots go (one per page)
//   VULN_LOCKFILE  a real composer.lock with a KEV-listed vulnerability
// Exits non-zero with the reason at the first expectation that does not hold.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const env = name => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env('BASE');
const SHOTS = env('SCREENSHOTS');
const ATTACKER = '203.0.113.77';
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
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.on('pageerror', e => errors.push(String(e)));
  let navigations = 0;
  page.on('framenavigated', f => { if (f === page.mainFrame()) navigations += 1; });
  const shot = name => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  // 1. Log in as a center analyst.
  await page.goto(BASE + '/');
  await page.waitForSelector('#login-form');
  await shot('01-login');
  await page.fill('#login-user', env('CENTER_USER'));
  await page.fill('#login-password', 'not the password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  expect(await page.isVisible('#login-form'), 'a wrong password keeps the login form');
  await page.fill('#login-password', env('CENTER_PASSWORD'));
  await page.click('#login-submit');
  await page.waitForSelector('#alerts');
  await page.waitForSelector('#live.on');
  const cookies = await context.cookies();
  const session = cookies.find(c => c.name === 'haechi_session');
  expect(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

  // 2. An event ingested now shows up as an alert without reloading the page.
  const before = navigations;
  const line = `${ATTACKER} - - [${clfTime(new Date())}] "GET /download.php?file=../../../../etc/passwd HTTP/1.1" 200 512 "-" "curl/8.5"`;
  const r = await fetch(`${BASE}/api/ingest?tenant=seoul&format=clf`, {
    method: 'POST', headers: { Authorization: `Bearer ${env('INGEST_TOKEN')}` }, body: line,
  });
  expect(r.status === 200, `ingest answered ${r.status}`);
  const row = page.locator('#alerts tbody tr.alert-row', { hasText: ATTACKER });
  await row.waitFor();
  expect(navigations === before, 'the alert appeared without a page load');
  expect((await row.locator('td').nth(3).textContent()) === 'seoul', 'the alert belongs to seoul');
  await shot('02-queue-live-alert');

  // 3. Acknowledge it (bulk action on the selection).
  await row.locator('input.pick').check();
  expect(await page.textContent('#selected-count') === '1 selected', 'one alert selected');
  await page.click('#ack');
  await page.locator('#alerts tbody tr.alert-row', { hasText: ATTACKER }).locator('.state.acknowledged').waitFor();

  // 4. Open the incident it belongs to.
  await page.locator('#alerts tbody tr.alert-row', { hasText: ATTACKER }).locator('td.rule').click();
  await page.waitForSelector('#alert-detail h2');
  await shot('03-alert-detail');
  await page.click('#alert-incident');
  await page.waitForSelector('#incident-title');
  expect((await page.textContent('#incident-title')).includes('Path traversal'), 'the incident is titled after its alert');
  await page.selectOption('#w-status', 'triage');
  await page.fill('#w-note', 'checked the web server logs');
  await page.click('#incident-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#incident-status')?.textContent === 'triage');
  expect((await page.textContent('#incident-notes')).includes('checked the web server logs'), 'the note is shown');
  await page.fill('#task-text', 'block the address at the edge');
  await page.click('#task-form button[type=submit]');
  const task = page.locator('#incident-tasks li', { hasText: 'block the address at the edge' });
  await task.waitFor();
  await task.locator('input[type=checkbox]').check();
  await page.locator('#incident-tasks li.done', { hasText: 'block the address at the edge' }).waitFor();
  await page.waitForSelector('#incident-timeline tbody tr');
  expect((await page.textContent('#incident-timeline')).includes('/etc/passwd'), 'the timeline holds the attack request');
  // Pin the attack request as evidence, with a reason.
  page.once('dialog', dialog => dialog.accept('the traversal request itself'));
  await page.locator('#incident-timeline tbody tr', { hasText: '/etc/passwd' }).first().locator('button.pin').click();
  await page.locator('#incident-evidence tbody tr', { hasText: 'the traversal request itself' }).waitFor();
  expect((await page.textContent('#incident-evidence')).includes('/etc/passwd'), 'the pinned event is the attack request');
  await page.waitForSelector('#export-html');
  const report = await page.evaluate(async () => {
    const r = await fetch(document.querySelector('#export-html').getAttribute('href'));
    return { status: r.status, csp: r.headers.get('content-security-policy'), body: await r.text() };
  });
  expect(report.status === 200 && report.body.includes('checked the web server logs') && report.body.includes('/etc/passwd'), 'the HTML report holds the note and the timeline');
  expect(report.body.includes('the traversal request itself'), 'the HTML report holds the evidence');
  // Sharing waits for confirmation: in triage the button is off; in containment it publishes.
  expect(await page.isDisabled('#share-form button[type=submit]'), 'an unconfirmed incident is not shared');
  await page.selectOption('#w-status', 'containment');
  await page.click('#incident-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#incident-status')?.textContent === 'containment');
  await page.selectOption('#share-tlp', 'green');
  await page.click('#share-form button[type=submit]');
  await page.locator('.toast', { hasText: 'Published:' }).waitFor();
  expect((await page.textContent('#toasts')).includes('as TLP:GREEN'), 'published at the TLP chosen');
  expect(report.csp.includes("default-src 'none'"), 'the report may run no script');
  await shot('04-incident');

  // 5. The playbook waits for approval; approving it fills the block list.
  await page.click('nav a[data-page=response]');
  const run = page.locator('#runs-table tr.pending', { hasText: ATTACKER });
  await run.waitFor();
  await shot('05-response-pending');
  await run.locator('button.approve').click();
  await page.locator('.blocklist[data-list=edge] td.entry', { hasText: ATTACKER }).waitFor();
  const txt = await page.evaluate(async () => (await fetch('/api/blocklists/edge.txt')).text());
  expect(txt.split('\n').includes(ATTACKER), `edge.txt lists the attacker: ${JSON.stringify(txt)}`);
  await shot('06-response-approved');

  // 6. The situation board draws its charts.
  await page.click('nav a[data-page=board]');
  await page.waitForSelector('#series svg rect.bar');
  await page.waitForSelector('#attackers svg');
  expect((await page.textContent('#attackers')).includes(ATTACKER), 'the attacker is among the top attackers');
  await page.waitForSelector('#ingest-table');
  // The retro-hunt panel: the incident published to the hub above brought indicators.
  await page.waitForSelector('#retro p, #retro table');
  await shot('07-board');

  // 7. Event search with a histogram.
  await page.click('nav a[data-page=search]');
  await page.fill('#q', `source.ip:${ATTACKER}`);
  await page.click('#search-form button[type=submit]');
  await page.waitForSelector('#search-total');
  expect((await page.textContent('#search-total')).startsWith('1 matching event'), await page.textContent('#search-total'));
  expect(await page.locator('#search-results svg rect.bar').count() >= 1, 'the histogram has a bar');
  await shot('08-search');

  // 8. An institution analyst sees nothing of another institution.
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', env('SEOUL_USER'));
  await page.fill('#login-password', env('SEOUL_PASSWORD'));
  await page.click('#login-submit');
  await page.waitForSelector('#whoami');
  expect((await page.textContent('#whoami')).includes('seoul'), 'logged in as the seoul analyst');
  await page.click('nav a[data-page=queue]');
  await page.waitForSelector('#alerts tbody tr.alert-row');
  const institutions = await page.locator('#alerts tbody tr.alert-row td:nth-child(4)').allTextContents();
  expect(institutions.length > 0 && institutions.every(t => t === 'seoul'), `only seoul's alerts: ${institutions}`);
  const tenantOptions = await page.locator('#f-tenant option').allTextContents();
  expect(!tenantOptions.includes('busan'), `busan is not offered: ${tenantOptions}`);
  expect(!(await page.textContent('#alerts')).includes(env('BUSAN_ATTACKER')), 'no trace of busan in the queue');
  await shot('09-institution-queue');
  await page.click('nav a[data-page=incidents]');
  await page.waitForSelector('#incidents tbody tr');
  expect(await page.locator('#campaigns').count() === 0, 'an institution is not shown campaigns');
  const incidentTenants = await page.locator('#incidents tbody tr td:nth-child(4)').allTextContents();
  expect(incidentTenants.every(t => t === 'seoul'), `only seoul's incidents: ${incidentTenants}`);
  await page.click('nav a[data-page=search]');
  await page.fill('#q', `source.ip:${env('BUSAN_ATTACKER')}`);
  await page.click('#search-form button[type=submit]');
  await page.waitForSelector('#search-total');
  expect((await page.textContent('#search-total')).startsWith('0 matching events'), 'busan events are not found');
  await page.click('nav a[data-page=board]');
  await page.waitForSelector('#attackers svg');
  expect(!(await page.textContent('#board-updated, .board')).includes(env('BUSAN_ATTACKER')), 'the board shows nothing of busan');
  await shot('10-institution-board');

  // 9. The institution uploads its portal's lockfile: the KEV finding heads the list.
  await page.click('nav a[data-page=vulns]');
  await page.waitForSelector('#sbom-form');
  expect((await page.locator('#sbom-tenant option').allTextContents()).join() === 'seoul', 'the analyst uploads for seoul only');
  await page.fill('#sbom-system', 'public-portal');
  await page.selectOption('#sbom-exposure', 'internet-facing');
  await page.setInputFiles('#sbom-file', env('VULN_LOCKFILE'));
  await page.click('#sbom-form button[type=submit]');
  await page.waitForSelector('#findings-table tbody tr');
  const first = await page.locator('#findings-table tbody tr').first().textContent();
  expect(first.includes('KEV') && first.includes('facade/ignition') && first.includes('Act'), `the KEV finding comes first: ${first}`);
  expect((await page.textContent('#sboms-table')).includes('composer.lock'), 'the inventory is listed');
  const sites = await page.textContent('#sites-table');
  expect(sites.includes('TLSv1.0') && sites.includes('certificate-trust') && sites.includes('seoul'), `the inspected site shows its legacy TLS and untrusted certificate: ${sites}`);
  await shot('11-institution-vulns');

  // 10. The institution protects its domain: the look-alike already registered is found.
  await page.click('nav a[data-page=domains]');
  await page.waitForSelector('#protect-form');
  await page.fill('#protect-domain', 'seoul.go.kr');
  await page.click('#protect-form button[type=submit]');
  await page.waitForSelector('#look-alikes-table tbody tr');
  const look = await page.textContent('#look-alikes-table');
  expect(look.includes('seou1.go.kr') && look.includes('typosquat') && look.includes('seoul.go.kr'), `the look-alike is listed: ${look}`);
  expect((await page.textContent('#protected-table')).includes('seoul.go.kr'), 'the protected name is listed');
  await shot('12-institution-domains');
  // 11. The institution's drill: listed with its score; its page names the missed technique.
  await page.click('nav a[data-page=drills]');
  await page.waitForSelector('#drills-table tbody tr');
  const drillRow = await page.textContent('#drills-table tbody tr');
  expect(drillRow.includes('seoul') && drillRow.includes('0 of 1'), `the drill is listed with its score: ${drillRow}`);
  await page.click('#drills-table tbody tr a');
  await page.waitForSelector('#drill-techniques tbody tr');
  const technique = await page.textContent('#drill-techniques tbody tr');
  expect(technique.includes('T1053.005') && technique.includes('MISSED'), `the missed technique is named: ${technique}`);
  expect((await page.textContent('#no-officers')).includes('Nobody has acted'), 'no officer has acted on the drill');
  await shot('13-institution-drill');
  await page.click('nav a[data-page=queue]');
  await page.waitForSelector('#alerts tbody tr.alert-row');
  expect((await page.textContent('#alerts')).includes('CVE-2021-3129'), 'the KEV finding is an alert in the queue');
  expect(errors.length === 0, `no script errors: ${errors}`);
  console.log('console browser test: all expectations held');
} finally {
  await browser.close();
}

function clfTime(d) {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = n => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
