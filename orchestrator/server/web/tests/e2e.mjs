// The web page in a real browser: Debian's Chromium driven by playwright-core against a running
// `cbutler serve` (started by orchestrator/cli/tests/web.rs: a cluster server on a real Redis with
// bearer tokens, and one worker for the trade, lca and factory agents only). Screenshots and
// downloads go to $CBUTLER_ARTIFACTS.
//
// Environment: CBUTLER_URL, CBUTLER_ANALYST_TOKEN, CBUTLER_AUDITOR_TOKEN, CBUTLER_MRIO (a pymrio
// folder on the server's disk), CBUTLER_SERVE_PID (killed at the end to check the page's message
// when the server is gone), CBUTLER_ARTIFACTS, CHROMIUM (default /usr/bin/chromium).

import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env('CBUTLER_URL');
const ANALYST = env('CBUTLER_ANALYST_TOKEN');
const AUDITOR = env('CBUTLER_AUDITOR_TOKEN');
const MRIO = env('CBUTLER_MRIO');
const OUT = env('CBUTLER_ARTIFACTS');
mkdirSync(OUT, { recursive: true });

const LONG = 120_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
// bypassCSP lets the test inject axe-core; the page itself runs under the server's CSP.
const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, bypassCSP: true });
const page = await context.newPage();
page.setDefaultTimeout(30_000);

// Console errors and uncaught exceptions fail the test, except a failed load that a step
// provoked on purpose (it says which statuses it expects).
let expected = [];
const problems = [];
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const text = m.text();
  if (expected.some((re) => re.test(text))) return;
  problems.push(`console: ${text}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

let shot = 0;
/** The whole page, or only the element `selector` names. */
async function screenshot(name, selector) {
  shot += 1;
  const path = join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    await page.screenshot({ path: join(OUT, `failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}: ${e.stack || e}`);
    throw e;
  } finally {
    expected = [];
  }
}

async function useToken(value) {
  await page.click('#token-button');
  await page.fill('#token-input', value);
  await page.click('#token-dialog button[value="save"]');
  await page.waitForSelector('#token-dialog', { state: 'hidden' });
}

async function ask(question, { mrio } = {}) {
  // A fresh page: nothing left over from the previous question.
  await page.goto(`${BASE}/#/`);
  await page.reload();
  await page.fill('#question', question);
  if (mrio) {
    await page.evaluate(() => {
      document.querySelector('.data-fields').open = true;
    });
    await page.fill('#mrio', mrio);
  }
  await page.click('#ask-button');
  await page.waitForSelector('.timeline li.answered, .timeline li.failed', { timeout: LONG });
  await page.waitForSelector('.answer-table tbody tr', { timeout: LONG });
}

async function downloaded(selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = join(OUT, file.suggestedFilename());
  await file.saveAs(path);
  return readFileSync(path, 'utf8');
}

async function axe(label) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }));
  const bad = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(bad, [], `accessibility violations on ${label}`);
}

try {
  await step('the page asks for a token once and keeps it for the session', async () => {
    await page.goto(`${BASE}/`);
    await page.waitForSelector('#token-dialog[open]');
    await screenshot('token');
    await page.fill('#token-input', ANALYST);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#token-dialog', { state: 'hidden' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cbutler.token')), ANALYST);
    await page.reload();
    await page.waitForSelector('#question');
    assert.equal(await page.locator('#token-dialog[open]').count(), 0, 'asked again after a reload');
  });

  await step('a worker kind that is down is named in a banner', async () => {
    await page.waitForSelector('#banner:not([hidden])');
    const text = await page.textContent('#banner');
    assert.match(text, /No worker serves the sinks, uncertainty agents/);
  });

  await step('ask an example question, see the plan, the progress and the answer', async () => {
    // Keyboard only: the example button, then the Ask button.
    await page.focus('button.example[data-example="trade"]');
    await page.keyboard.press('Enter');
    assert.match(await page.inputValue('#question'), /China's consumption-based/);
    await page.focus('#ask-button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.plan-table tbody tr');
    assert.match(await page.textContent('.plan-table'), /trade/);
    await page.waitForSelector('.timeline li.answered', { timeout: LONG });
    const timeline = await page.textContent('.timeline');
    assert.match(timeline, /Question accepted/);
    assert.match(timeline, /Planned by rules/);
    assert.match(timeline, /Task national-accounts completed by web-worker-trade-0/);
    assert.equal(await page.textContent('.plan-table .task-status'), 'completed');
    await page.waitForSelector('.answer-table tbody tr');
    await screenshot('progress-and-answer');
    assert.match(await page.textContent('.answer-text'), /China/);
    const table = await page.textContent('.answer-table');
    assert.match(table, /Consumption-based CO2 of China, 2022/);
    assert.match(table, /10\.31 Gt CO2/);
    assert.match(table, /Global Carbon Budget 2024/);
    assert.match(await page.textContent('.run-links'), /decision log/);
    await axe('the answer');
  });

  await step('the supply-chain graph: zoom, click a node, open an edge by keyboard', async () => {
    await page.waitForSelector('#chart-graph .graph-node');
    await page.click('#chart-graph button:has-text("Zoom in")');
    await page.click('#chart-graph [data-node="region:CHN"]');
    const details = await page.textContent('#graph-details');
    assert.match(details, /China \(region\)/);
    assert.match(details, /consumption_co2/);
    assert.match(details, /Global Carbon Budget 2024/);
    await screenshot('graph-node', '#chart-graph');
    await page.focus('#chart-graph .graph-edge');
    await page.keyboard.press('Enter');
    assert.match(await page.textContent('#graph-details'), /→/);
  });

  await step('charts download as SVG and their data as CSV', async () => {
    const svg = await downloaded('#chart-accounts-co2 [data-download="svg"]');
    assert.match(svg, /^<\?xml/);
    assert.match(svg, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /consumption-based/);
    const csv = await downloaded('#chart-accounts-co2 [data-download="csv"]');
    assert.match(csv, /^region,consumption-based \(t CO2\),territorial \(t CO2\)\nCHN,10309727000,11350538000\n/);
    const graphSvg = await downloaded('#chart-graph [data-download="svg"]');
    assert.match(graphSvg, /China/);
  });

  let runId;
  await step('the run list and an analyst kept out of the decision log', async () => {
    await page.click('nav a[data-nav="runs"]');
    await page.waitForSelector('.runs-table tbody tr');
    runId = await page.getAttribute('.runs-table tbody tr', 'data-run');
    assert.ok(runId);
    await axe('the run list');
    expected = [/status of 403/];
    await page.click(`.runs-table tr[data-run="${runId}"] a:has-text("log")`);
    await page.waitForSelector('.error-box');
    assert.match(await page.textContent('.error-box'), /Your token's role cannot do this: the analyst role may not GET/);
    await screenshot('audit-forbidden');
  });

  await step('an auditor reads the decision log entry by entry, verified', async () => {
    await useToken(AUDITOR);
    await page.waitForSelector('.verdict');
    assert.equal(await page.getAttribute('.verdict', 'data-intact'), 'true');
    assert.match(await page.textContent('.verdict'), /Verified: the hash chain and the signed head hold/);
    const kinds = await page.$$eval('.audit-entry', (els) => els.map((e) => e.dataset.kind));
    for (const k of ['question', 'planning_attempt', 'plan', 'task_dispatched', 'task_result', 'answer']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    await page.click('.audit-entry[data-kind="answer"] summary');
    assert.match(await page.textContent('.audit-entry[data-kind="answer"] .entry-body'), /answer_sha256/);
    await screenshot('audit-log');
    await axe('the decision log');
  });

  await step('an API error is shown as a readable message (an auditor cannot ask)', async () => {
    expected = [/status of 403/];
    await page.goto(`${BASE}/#/`);
    await page.fill('#question', 'What is the carbon footprint of the EU27 in 2020?');
    await page.click('#ask-button');
    await page.waitForSelector('.form-error .error-box');
    assert.match(await page.textContent('.form-error'), /the auditor role may not POST \/v1\/questions/);
    await useToken(ANALYST);
  });

  await step('a bad request names what is wrong', async () => {
    expected = [/status of 400/];
    await page.goto(`${BASE}/#/`);
    await page.reload();
    await page.fill('#question', 'Compare consumption-based and production-based CO2 of all regions');
    await page.click('.data-fields summary');
    await page.fill('#mrio', '/no/such/mrio');
    await page.click('#ask-button');
    await page.waitForSelector('.form-error .error-box');
    assert.match(await page.textContent('.form-error'), /\/no\/such\/mrio/);
    await screenshot('bad-request');
  });

  await step('embodied transfers as a Sankey diagram', async () => {
    await ask('How much CO2 embodied in trade flows between all regions?', { mrio: MRIO });
    await page.waitForSelector('#chart-transfers svg path');
    const bands = await page.locator('#chart-transfers svg path').count();
    assert.ok(bands >= 20, `${bands} bands`);
    const csv = await downloaded('#chart-transfers [data-download="csv"]');
    assert.match(csv, /^producer,consumer,value \(kg\)\n/);
    assert.equal(csv.trim().split('\n').length, 31);
    await screenshot('sankey', '#chart-transfers');
  });

  await step('consumption- versus production-based accounts as bars', async () => {
    await ask('Compare consumption-based and production-based CO2 of all regions', { mrio: MRIO });
    await page.waitForSelector('#chart-accounts-emission-type1 svg rect');
    const csv = await downloaded('#chart-accounts-emission-type1 [data-download="csv"]');
    assert.equal(csv.trim().split('\n').length, 7);
    await screenshot('accounts', '#chart-accounts-emission-type1');
  });

  await step('the marginal abatement cost curve', async () => {
    await ask('How can an EAF steel plant in Germany cut emissions at least cost with a carbon price of 80 EUR/t?');
    await page.waitForSelector('#chart-macc svg rect');
    const svg = await downloaded('#chart-macc [data-download="svg"]');
    assert.match(svg, /carbon price 80 EUR\/t/);
    const csv = await downloaded('#chart-macc [data-download="csv"]');
    assert.match(csv, /^measure,cost \(EUR\/t CO2\),abatement potential \(t CO2\/yr\)\n/);
    await screenshot('macc', '#chart-macc');
  });

  await step('avoided emissions: exporter → destination edges carrying the interval', async () => {
    await ask(
      "How much CO2 do China's 1,000 MW of solar exports to Brazil avoid over 30 years, with a capacity factor of 15 to 19 %, degradation of 0.5 % a year, 900 MWh per MW to make and 300 t CO2e per MW besides?",
    );
    await page.waitForSelector('#chart-graph .graph-edge');
    const edges = page.locator('#chart-graph .graph-edge');
    const labels = await edges.evaluateAll((es) => es.map((e) => e.getAttribute('aria-label')));
    const avoided = labels.findIndex((l) => /^China → Brazil: avoided emissions, /.test(l));
    assert.ok(avoided >= 0, `no avoided-emissions edge among: ${labels.join(' | ')}`);
    assert.ok(labels.some((l) => /^China → Brazil: embodied emissions, /.test(l)), labels.join(' | '));
    await edges.nth(avoided).focus();
    await page.keyboard.press('Enter');
    const details = await page.textContent('#graph-details');
    assert.match(details, /avoided emissions: China → Brazil/);
    assert.match(details, /95 % interval/);
    assert.match(details, /IFI harmonised margin/);
    await screenshot('avoided-graph', '#chart-graph');
  });

  await step('a life-cycle contribution chart, and the page at tablet width', async () => {
    await ask('What is the carbon footprint of 1 m3 of diesel in USLCI?');
    await page.waitForSelector('#chart-lca-contributions svg rect');
    assert.match(await page.textContent('#chart-lca-contributions'), /total/);
    await screenshot('lca-contributions', '#chart-lca-contributions');
    await screenshot('lca-graph', '#chart-graph');
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than a tablet`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot('tablet');
    await axe('the answer at tablet width');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  await step("the page's labels follow the browser's language", async () => {
    for (const [locale, lang, ask, button] of [
      ['fr-FR', 'fr', 'Poser une question', 'Demander'],
      ['zh-CN', 'zh', '提问', '提问'],
      ['de-DE', 'de', 'Fragen', 'Fragen'],
    ]) {
      const other = await browser.newContext({ locale, viewport: { width: 1366, height: 900 } });
      try {
        const p = await other.newPage();
        await p.goto(`${BASE}/#/`);
        await p.waitForSelector('#ask-button');
        assert.equal(await p.getAttribute('html', 'lang'), lang);
        assert.equal((await p.textContent('nav a[data-nav="ask"]')).trim(), ask);
        assert.equal((await p.textContent('#ask-button')).trim(), button);
      } finally {
        await other.close();
      }
    }
  });

  await step('the server going away is said plainly', async () => {
    expected = [/ERR_CONNECTION_REFUSED/, /Failed to load resource/];
    process.kill(Number(env('CBUTLER_SERVE_PID')), 'SIGKILL');
    await page.waitForTimeout(300);
    // The open page routes without the server; its next call fails and says why.
    await page.click('nav a[data-nav="runs"]');
    await page.waitForSelector('.error-box', { timeout: 15_000 });
    assert.match(await page.textContent('.error-box'), /Cannot reach the Carbon Butler server at http:\/\/127\.0\.0\.1:\d+: is cbutler serve running\?/);
    await page.waitForFunction(() => document.getElementById('service-status').dataset.state === 'down', null, { timeout: 15_000 });
    assert.match(await page.textContent('#service-status'), /Server unreachable/);
    await screenshot('server-down');
  });

  assert.deepEqual(problems, [], 'console errors');
  console.log('all ok');
} finally {
  await browser.close();
}
