// Markup in every field an attacker controls, rendered by the console and the HTML
// report, must stay text. Started by crates/haechi/tests/xss_browser.rs, which stores
// hostile events (request path, user agent, message, host name), a rule whose title is
// markup, and a hub indicator whose name is markup, and passes:
//   BASE, USER, PASSWORD, SCREENSHOTS, CHROMIUM
// Each payload sets window.__xss (or opens a dialog) if it runs. Exits non-zero at the
// first expectation that does not hold.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

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
const ran = [];
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.on('dialog', d => { ran.push('dialog: ' + d.message()); d.dismiss(); });
  const shot = name => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const noScriptRan = async where => {
    const hit = await page.evaluate(() => window.__xss);
    expect(hit === undefined && ran.length === 0, `a payload ran on ${where}: ${hit} ${ran.join(', ')}`);
  };

  await page.goto(BASE + '/');
  await page.fill('#login-user', env('USER'));
  await page.fill('#login-password', env('PASSWORD'));
  await page.click('#login-submit');
  await page.waitForSelector('#alerts');

  // The queue: the rule title and the indicator's name are shown as text.
  const hostile = page.locator('#alerts tbody tr.alert-row', { hasText: '<img src=x onerror=window.__xss=1>' });
  await hostile.first().waitFor();
  const intel = page.locator('#alerts tbody tr.alert-row', { hasText: 'Threat intel:' });
  await intel.first().waitFor();
  await noScriptRan('the alert queue');
  await shot('xss-01-queue');

  // The indicator alert's detail: the partner's description of it, as text.
  await intel.first().locator('td.rule').click();
  await page.waitForSelector('#alert-detail h2');
  await page.waitForFunction(() => document.querySelector('#alert-detail').textContent.includes('window.__xss=5'));
  await noScriptRan('the indicator alert');
  await page.click('nav a[data-page=queue]');
  await page.waitForSelector('#alerts tbody tr.alert-row');

  // The alert's detail: the event's fields (path, user agent) as text.
  await hostile.first().locator('td.rule').click();
  await page.waitForSelector('#alert-detail h2');
  const detail = await page.textContent('#alert-detail');
  expect(detail.includes('<img src=x onerror=window.__xss=1>'), 'the title is shown as text');
  await noScriptRan('the alert detail');

  // Its incident, with the timeline of the hostile events.
  await page.click('#alert-incident');
  await page.waitForSelector('#incident-title');
  await page.waitForSelector('#incident-timeline tbody tr');
  const timeline = await page.textContent('#incident-timeline');
  expect(timeline.includes('<script>'), `the request path is shown as text: ${timeline.slice(0, 300)}`);
  await noScriptRan('the incident');
  await shot('xss-02-incident');

  // The HTML report of the incident (a download), rendered as a page without its
  // Content-Security-Policy header: escaping alone must keep the payloads inert.
  const href = await page.getAttribute('#export-html', 'href');
  const html = await page.evaluate(async h => (await fetch(h)).text(), href);
  await page.setContent(html);
  const body = await page.textContent('body');
  expect(body.includes('<img src=x onerror=window.__xss=1>'), 'the report shows the title as text');
  expect(body.includes('<script>window.__xss=2</script>'), 'the report shows the path as text');
  await noScriptRan('the HTML report');
  await shot('xss-03-report');

  // Search: the hostile message and host name as text.
  await page.goto(BASE + '/');
  await page.waitForSelector('#alerts');
  await page.click('nav a[data-page=search]');
  await page.fill('#q', 'xssprobe');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => (document.querySelector('main')?.textContent || '').includes('window.__xss=4'));
  await noScriptRan('the search results');
  await shot('xss-04-search');

  // The board: attackers and targets carry the hostile values.
  await page.click('nav a[data-page=board]');
  await page.waitForSelector('#attackers svg');
  await page.waitForTimeout(500);
  await noScriptRan('the situation board');
  console.log('all expectations held');
} finally {
  await browser.close();
}
