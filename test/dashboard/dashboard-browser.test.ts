/**
 * The dashboard end to end in a real browser (Debian's chromium driven by playwright-core) against
 * a real server with trained models, runs, a dataset profile, a deployment and traffic: sign in
 * with an API key after the 401, then click through every page and check that each chart draws
 * real data (its data-points count, and pixels on its canvas); alert rules driven through fired and
 * resolved on real traffic, drawn on the alerts page. With STRATUM_SCREENSHOTS=<dir>, a
 * screenshot of each page is written there (docs/dashboard holds the committed ones).
 * Needs the built dashboard: `npm run build` (or `npx vite build --config dashboard/vite.config.js`).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/api/http/dashboard-assets.ts';
import { DASHBOARD_KEY, startDashboardData } from './dashboard-data.ts';
import { openBrowserPage } from '../helpers/browser.ts';

// Generous: a shared two-core machine; these bound a hang, they are not performance targets.
const WAIT = { timeout: 60_000 };
const SCREENSHOTS = process.env['STRATUM_SCREENSHOTS'];

/**
 * Coloured pixels on a chart's canvas (a chart that drew nothing has only transparent ones). The
 * expression runs in the page (this file is compiled without the DOM's types).
 */
function inkExpression(chart: string): string {
  return `(() => {
    const c = document.querySelector('figure[data-chart="${chart}"] canvas');
    if (c === null || c.width === 0) return 0;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink;
  })()`;
}

/** The data points a chart draws, as the page states them. */
async function pointsOf(page: Page, chart: string): Promise<number> {
  return Number(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-points', WAIT));
}

/** Waits for a page to be drawn (the router marks it ready). */
async function drawn(page: Page, name: string): Promise<void> {
  await page.waitForSelector(`[data-page="${name}"][data-ready]`, WAIT);
}

/** Every chart on the page drew data: a positive data count and coloured pixels. */
async function chartsHaveData(page: Page, options: { atLeast: number }): Promise<string[]> {
  const names = await page
    .locator('figure[data-chart]')
    .evaluateAll((figures) => figures.map((f) => f.getAttribute('data-chart') ?? ''));
  assert.ok(names.length >= options.atLeast, `expected at least ${options.atLeast} charts, found ${names.join(', ')}`);
  for (const name of names) {
    assert.ok((await pointsOf(page, name)) > 0, `chart ${name} has data points`);
    // Chart.js draws once the canvas is laid out: wait for pixels rather than assume they are there.
    await page.waitForFunction(`${inkExpression(name)} > 0`, undefined, WAIT);
    assert.ok(Number(await page.evaluate(inkExpression(name))) > 0, `chart ${name} drew pixels`);
  }
  return names;
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

test('the dashboard shows every page with real data, after signing in', { timeout: 600_000 }, async (t) => {
  assert.ok(existsSync(join(DASHBOARD_DIR, 'index.html')), `no built dashboard in ${DASHBOARD_DIR}: run npm run build`);
  const data = await startDashboardData(t);
  // Three rounds of traffic, three samples: every line has points.
  for (let round = 0; round < 3; round++) await data.traffic(20);

  const { page, failures } = await openBrowserPage(t);

  // No key yet: the API answers 401 and the page asks for one.
  await page.goto(`${data.server.httpUrl}/`, WAIT);
  await page.waitForSelector('form.sign-in', WAIT);
  await screenshot(page, 'sign-in');
  await page.fill('#token', DASHBOARD_KEY);
  await page.click('form.sign-in button[type=submit]');

  // Deployments: the traffic split and the live charts of the whole deployment.
  await drawn(page, 'deployments');
  assert.equal(await page.getAttribute('[data-deployment="reviews"] .split', 'data-split'), '1:70,2:30');
  await chartsHaveData(page, { atLeast: 3 });
  assert.ok((await pointsOf(page, 'reviews-requests')) >= 3, 'a point per sample');
  await screenshot(page, 'deployments');

  // One deployment: the same charts by version, and its history.
  await page.click('[data-deployment="reviews"] h2 a');
  await drawn(page, 'deployment');
  await chartsHaveData(page, { atLeast: 3 });
  assert.match((await page.textContent('main')) ?? '', /created/i);
  await screenshot(page, 'deployment');

  // Drift and live quality are not on this server: the pages say so.
  await page.click('a[href="#/deployments/reviews/drift"]');
  await drawn(page, 'drift');
  assert.match((await page.textContent('.unavailable')) ?? '', /Drift: not available/);
  await page.goBack();
  await drawn(page, 'deployment');
  await page.click('a[href="#/deployments/reviews/quality"]');
  await drawn(page, 'quality');
  assert.match((await page.textContent('.unavailable')) ?? '', /Live quality: not available/);

  // Models → the model's versions with lineage and aliases → a version.
  await page.click('#nav a[href="#/models"]');
  await drawn(page, 'models');
  assert.match((await page.textContent('main table')) ?? '', /production → v2/);
  await page.click('main table a[href="#/models/reviews"]');
  await drawn(page, 'model');
  assert.equal(await page.locator('[data-table="versions"] tbody tr').count(), 2);
  await chartsHaveData(page, { atLeast: 1 });
  await screenshot(page, 'model');
  await page.click('a[href="#/models/reviews/versions/2"]');
  await drawn(page, 'version');
  const lineage = page.locator('[data-lineage] a');
  assert.equal(await lineage.first().getAttribute('href'), `#/runs/${data.runIds[1]}`);
  assert.equal(await lineage.nth(1).getAttribute('href'), `#/datasets/${encodeURIComponent(data.datasetVersion)}`);
  // The version's model card, from the card route, shown beside its lineage.
  const cardText = (await page.locator('.model-card').textContent()) ?? '';
  assert.match(cardText, /stratum\.model-card\/v1/);
  assert.match(cardText, /reviews/);
  await screenshot(page, 'version');

  // The run it came from: one chart per metric key, by step.
  await lineage.first().click();
  await drawn(page, 'run');
  const runCharts = await chartsHaveData(page, { atLeast: 1 });
  assert.ok(runCharts.includes('run-validation_loss'), `charts: ${runCharts.join(', ')}`);
  assert.equal(await pointsOf(page, 'run-validation_loss'), 25, 'one point per tree');
  await screenshot(page, 'run');

  // Runs side by side.
  await page.click('#nav a[href="#/runs"]');
  await drawn(page, 'runs');
  for (const id of data.runIds) await page.check(`input[data-run="${id}"]`);
  await page.click('#compare');
  await drawn(page, 'compare');
  await chartsHaveData(page, { atLeast: 1 });
  assert.equal(await pointsOf(page, 'compare-validation_loss'), 15 + 25, 'both curves');
  assert.ok((await page.locator('table.compare tr.differs').count()) > 0, 'differing parameters are marked');
  await screenshot(page, 'compare');

  // The dataset's profile: a histogram or category chart per column.
  await page.click('#nav a[href="#/datasets"]');
  await drawn(page, 'datasets');
  await page.click(`a[href="#/datasets/${encodeURIComponent(data.datasetVersion)}"]`);
  await drawn(page, 'dataset');
  const profileCharts = await chartsHaveData(page, { atLeast: 4 });
  for (const column of ['age', 'income', 'city', 'label']) {
    assert.ok(profileCharts.includes(`profile-${column}`), `a chart of ${column}: ${profileCharts.join(', ')}`);
  }
  assert.equal(await pointsOf(page, 'profile-age'), 20, 'twenty bins');
  await screenshot(page, 'dataset');

  // Alerts: drive the rules through fired → resolved → fired on real traffic, then read the page.
  const alerts = data.server.alerts;
  assert.ok(alerts !== undefined, 'the server evaluates the rules file');
  const phaseOf = (rule: string) => alerts.status().find((r) => r.rule === rule)?.phase;
  /** Evaluates until `rule` is in `phase` (the error rate needs two snapshots apart). */
  const evaluateUntil = async (rule: string, phase: string) => {
    for (let i = 0; i < 1000 && phaseOf(rule) !== phase; i++) await alerts.evaluate();
    assert.equal(phaseOf(rule), phase, `${rule} becomes ${phase}`);
  };
  await alerts.evaluate();
  await data.badRequest();
  await evaluateUntil('error-rate', 'firing');
  await data.traffic(10);
  await evaluateUntil('error-rate', 'inactive');
  await data.badRequest();
  await evaluateUntil('error-rate', 'firing');
  const transitions = alerts.history();
  assert.deepEqual(
    transitions.filter((e) => e.rule === 'error-rate').map((e) => e.transition),
    ['fired', 'resolved', 'fired'],
  );
  await page.click('#nav a[href="#/alerts"]');
  await drawn(page, 'alerts');
  const phases = await page
    .locator('[data-table="alert-rules"] tbody tr')
    .evaluateAll((rows) => rows.map((r) => `${r.children[0]?.textContent}:${r.children[1]?.textContent}`));
  assert.deepEqual(phases, [
    'error-rate:firing',
    'any-traffic:firing',
    'sustained-traffic:pending',
    'p99-latency:inactive',
  ]);
  await chartsHaveData(page, { atLeast: 1 });
  assert.equal(await pointsOf(page, 'alerts-timeline'), transitions.length, 'a marker per transition');
  assert.equal(await page.locator('[data-table="alert-history"] tbody tr').count(), transitions.length);
  // The rollback the rule asks for fails (the deployment has no canary): shown, not hidden.
  assert.match(
    (await page.textContent('[data-table="alert-history"]')) ?? '',
    /rollback reviews: failed \(deployment "reviews" has no running canary/,
  );
  await screenshot(page, 'alerts');

  // The deployments page refreshes itself: new traffic shows up without a reload.
  await page.click('#nav a[href="#/deployments"]');
  await drawn(page, 'deployments');
  const before = await pointsOf(page, 'reviews-requests');
  await data.traffic(5);
  await page.waitForFunction(
    `Number(document.querySelector('figure[data-chart="reviews-requests"]')?.getAttribute('data-points')) > ${before}`,
    undefined,
    WAIT,
  );
  assert.deepEqual(failures, [], 'no script errors');
});
