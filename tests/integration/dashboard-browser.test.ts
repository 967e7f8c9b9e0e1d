import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_INSTALL_HINT, CHROMIUM_PATH, chromiumAvailable, ensureDashboardBuilt, startDashboardTwin, type DashboardTwin } from '#tests/support/dashboard-twin.ts';

// The operations dashboard as an operator uses it (issue #9): a real two-region twin with the dashboard server wired
// as `rotor up` wires it, and the built UI driven in Debian's Chromium through playwright-core. The tests share one
// twin and one page and run in order: the page goes live, the generator is started and stopped from the UI while the
// Flow view's counts rise, then a planned rotation of trade matching runs from the Runbooks view to SUCCEEDED, then
// us-east-1 is killed from the Regions table and settlement's disaster recovery runs to SUCCEEDED in us-west-2.
// Screenshots land in .ci/out/screenshots/ (gitignored) as artefacts.

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const RATE = 5;
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../.ci/out/screenshots');
const ROTATION_MS = 240_000;

const HAS_CHROMIUM = chromiumAvailable();
if (!HAS_CHROMIUM) console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM_PATH}; install it with \`${CHROMIUM_INSTALL_HINT}\` (or set ROTOR_CHROMIUM)`);
const SUITE = HAS_CHROMIUM ? 'the dashboard in Chromium' : `the dashboard in Chromium (skipped: no ${CHROMIUM_PATH}; run \`${CHROMIUM_INSTALL_HINT}\`)`;

describe.skipIf(!HAS_CHROMIUM)(SUITE, () => {
  let dataDir: string | undefined;
  let running: DashboardTwin | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageProblems: string[] = [];

  const summary = () => page.getByRole('region', { name: 'Summary' });
  const openTab = (name: string) => page.getByRole('tab', { name, exact: true }).click();
  const shoot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  /** The count a stage card shows for `metric` (its row's tooltip is the metric's name); null while it shows —. */
  async function shownCount(card: Locator, metric: string): Promise<number | null> {
    const row = card.getByTitle(metric, { exact: true });
    if ((await row.count()) === 0) return null;
    const text = (await row.textContent({ timeout: 5_000 })) ?? '';
    const digits = /(\d[\d,]*)\s*$/.exec(text.trim())?.[1];
    return digits === undefined ? null : Number(digits.replaceAll(',', ''));
  }

  /** The value the Load generator panel shows for `fact` (state, rate, legs sent, region). */
  const generatorFact = (fact: string) =>
    page.getByRole('region', { name: 'Load generator' }).locator(`dt:text-is("${fact}") + dd`).textContent({ timeout: 5_000 }).then((text) => (text ?? '').trim());

  beforeAll(async () => {
    // This suite's own folder: last run's pictures (a failure's among them) would mislead.
    await rm(SCREENSHOTS, { recursive: true, force: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    await ensureDashboardBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-dashboard-browser-'));
    running = await startDashboardTwin({ dataDir });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => void (message.type() === 'error' && pageProblems.push(`console.error: ${message.text()}`)));
  }, 300_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && browser?.isConnected()) {
      await shoot(`failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
    }
  });

  afterAll(async () => {
    if (pageProblems.length > 0) console.warn(`the page reported:\n${pageProblems.join('\n')}`);
    await browser?.close().catch((error: unknown) => console.warn(`closing Chromium failed: ${String(error)}`));
    try {
      await running?.stop();
    } finally {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('opens from the URL with the token and shows both regions, live', async () => {
    // Prepare
    const { url, token } = running!.access;

    // Act
    await page.goto(`${url}/#token=${token}`);
    await page.getByRole('heading', { name: `${EAST} active`, level: 3 }).first().waitFor({ timeout: 30_000 });

    // Assess
    await expect.poll(() => summary().textContent(), { timeout: 15_000, interval: 250 }).toMatch(/live, snapshot/);
    const bar = (await summary().textContent()) ?? '';
    expect(bar).toContain(`${EAST}: up`);
    expect(bar).toContain(`${WEST}: up`);
    expect(bar).toContain(`Trade matching: ${EAST}`);
    expect(await page.getByRole('heading', { name: `${WEST} standby`, level: 3 }).count()).toBe(2);
    // The token left the address bar for this tab's storage; the view is kept in the fragment instead.
    expect(page.url()).not.toContain(token);
    expect(running!.dashboard.url).toBe(url);
  }, 60_000);

  it('starts the generator from Regions & controls, and the Flow view counts rise', async () => {
    // Prepare
    await openTab('Regions & controls');
    await page.getByLabel(/rate \(legs\/s\)/).fill(String(RATE));

    // Act
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => generatorFact('state'), { timeout: 20_000, interval: 250 }).toBe('running');
    await expect.poll(() => summary().textContent(), { timeout: 5_000, interval: 250 }).toContain(`generator: running at ${RATE}/s`);
    await openTab('Flow');
    const ingestion = page.getByRole('region', { name: `tm-ingestion in ${EAST}` });
    await expect.poll(async () => (await shownCount(ingestion, 'RecordsProcessed')) ?? 0, { timeout: 60_000, interval: 1_000 }).toBeGreaterThan(0);
    const first = (await shownCount(ingestion, 'RecordsProcessed'))!;

    // Assess
    await expect.poll(async () => (await shownCount(ingestion, 'RecordsProcessed')) ?? 0, { timeout: 45_000, interval: 1_000 }).toBeGreaterThan(first);
    const matching = page.getByRole('region', { name: `tm-matching in ${EAST}` });
    await expect.poll(async () => (await shownCount(matching, 'RecordsProcessed')) ?? 0, { timeout: 30_000, interval: 1_000 }).toBeGreaterThan(0);
    // Trades by status, as the matching stage counts its committed outcomes: legs wait UNMATCHED or pair up.
    const legsByStatus = page.getByLabel('Trade legs by status');
    await expect
      .poll(async () => {
        const text = (await legsByStatus.textContent()) ?? '';
        return [...text.matchAll(/(UNMATCHED|MATCHED|MISMATCHED|SETTLED)\s*([\d,]+)/g)].reduce((sum, match) => sum + Number(match[2]!.replaceAll(',', '')), 0);
      }, { timeout: 60_000, interval: 1_000 })
      .toBeGreaterThan(0);
    await shoot('01-flow-under-load');
    await openTab('Regions & controls');
    expect(await generatorFact('rate')).toBe(`${RATE} legs/s`);
    // Legs sent and the region are known once a run (15 s from the dashboard) has answered.
    await expect.poll(async () => Number((await generatorFact('legs sent')).replaceAll(',', '')), { timeout: 40_000, interval: 1_000 }).toBeGreaterThan(0);
    expect(await generatorFact('region')).toBe(EAST);
    await shoot('02-controls-generator-running');
  }, 180_000);

  it('stops the generator from the UI, and the state shown changes', async () => {
    // Prepare
    await openTab('Regions & controls');
    const stop = page.getByRole('region', { name: 'Load generator' }).getByRole('button', { name: 'Stop', exact: true });

    // Act
    await stop.click();

    // Assess
    // The state, then the reason beside it (e.g. "stopping stopped from the dashboard; a run in flight ends first").
    await expect.poll(() => generatorFact('state'), { timeout: 10_000, interval: 250 }).toMatch(/^(stopping|stopped)\b/);
    // A run in flight ends first (15-second runs from the dashboard), then the loop shows stopped.
    await expect.poll(() => generatorFact('state'), { timeout: 45_000, interval: 500 }).toMatch(/^stopped\b/);
    expect(await summary().textContent()).toContain('generator: stopped');
    expect(await stop.isDisabled()).toBe(true);
    expect(await page.getByRole('region', { name: 'Load generator' }).getByRole('button', { name: 'Start', exact: true }).isEnabled()).toBe(true);
    await shoot('03-controls-generator-stopped');
  }, 90_000);

  it('starts a chaos experiment from the Chaos view, sees it running, and sees it end by itself among the recent runs', async () => {
    // Prepare
    await openTab('Chaos');
    const row = page.getByRole('row', { name: /^replication-pause/ });
    await row.waitFor({ timeout: 15_000 });
    await row.getByLabel('replication-pause seconds').fill('3');

    // Act
    await row.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByRole('dialog', { name: 'Start replication-pause?' }).getByRole('button', { name: 'start replication-pause' }).click();

    // Assess: running (the links paused), then ended after its 3 s, the links shipping again.
    const running = page.locator('table', { has: page.locator('caption', { hasText: /^Running$/ }) });
    await expect.poll(async () => (await running.count()) > 0 && ((await running.textContent()) ?? '').includes('replication-pause'), { timeout: 10_000, interval: 250 }).toBe(true);
    await shoot('04a-chaos-running');
    const recent = page.locator('table', { has: page.locator('caption', { hasText: /^Recent runs$/ }) });
    await expect.poll(async () => ((await recent.count()) > 0 ? ((await recent.textContent()) ?? '') : ''), { timeout: 20_000, interval: 500 }).toMatch(/replication-pause.*stopped/);
    expect(await running.count()).toBe(0);
  }, 60_000);

  it('runs a planned rotation of trade matching from Runbooks to SUCCEEDED, and trade matching is then active in us-west-2', async () => {
    // Prepare
    await openTab('Runbooks');
    await page.getByRole('row', { name: /^Trade matching/ }).getByRole('button', { name: 'Rotate', exact: true }).click({ timeout: 30_000 });
    const form = page.getByRole('form', { name: /^Rotate: Trade matching/ });
    await form.waitFor({ timeout: 10_000 });
    expect(await form.getByLabel('sourceRegion', { exact: true }).inputValue()).toBe(EAST);
    expect(await form.getByLabel('targetRegion', { exact: true }).inputValue()).toBe(WEST);

    // Act
    await form.getByRole('button', { name: 'Start rotate' }).click();
    const execution = page.getByRole('region', { name: /^Execution\s/ });
    const heading = execution.getByRole('heading', { level: 2 });
    const graph = execution.getByRole('img', { name: /^State machine graph/ });
    await graph.waitFor({ timeout: 30_000 });
    const status = async () => /\b(RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED)\b/.exec((await heading.textContent()) ?? '')?.[1] ?? 'loading';
    // In progress: a few states done and one current, unless it ended quicker than that.
    await expect
      .poll(async () => ((await status()) === 'RUNNING' ? await graph.locator('g.node-succeeded, g.node-entered').count() : (await status()) === 'loading' ? 0 : Infinity), { timeout: 60_000, interval: 500 })
      .toBeGreaterThanOrEqual(4);
    await shoot('04-runbook-rotation-in-progress');
    await expect.poll(status, { timeout: ROTATION_MS, interval: 2_000 }).toMatch(/^(SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$/);
    await shoot('05-runbook-rotation-ended');

    // Assess
    const ended = (await heading.textContent()) ?? '';
    const problem = (await execution.locator('.notice').allTextContents()).join(' ');
    expect(ended, `the execution ended so: ${ended} ${problem}`).toContain('SUCCEEDED');
    expect(await execution.locator('dt:text-is("ended in") + dd').textContent()).toBe('Rotated');
    expect(await graph.getAttribute('aria-label')).toMatch(/, at Rotated$/);
    const last = graph.locator('g.node-now');
    expect(await last.count()).toBe(1);
    expect(await last.locator('.node-name').textContent()).toBe('Rotated');
    // Done (green: entered or succeeded), neither still current nor failed.
    expect(await last.getAttribute('class')).toMatch(/\bnode-(succeeded|entered)\b/);
    expect(await last.getAttribute('class')).not.toMatch(/\bnode-(current|failed)\b/);
    expect(await graph.locator('g.node-failed').count()).toBe(0);
    await expect.poll(() => summary().textContent(), { timeout: 10_000, interval: 500 }).toContain(`Trade matching: ${WEST}`);
    expect(await page.getByRole('region', { name: 'Executions' }).getByRole('row', { name: /tm-rotation/ }).first().textContent()).toContain('SUCCEEDED');
  }, ROTATION_MS + 120_000);

  it('kills us-east-1 from the Regions table, then runs settlement’s disaster recovery from Runbooks to SUCCEEDED in us-west-2', async () => {
    // Prepare: settlement is still active in us-east-1 (only trade matching rotated).
    await openTab('Replication & health');
    const eastRow = page.getByRole('region', { name: 'Regions', exact: true }).getByRole('row', { name: new RegExp(`^${EAST}`) });
    await eastRow.getByRole('button', { name: 'Kill', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Kill ${EAST}?` });
    expect(await dialog.textContent()).toContain('settlement');

    // Act: the outage, then the recovery.
    await dialog.getByRole('button', { name: `kill ${EAST}` }).click();
    await expect.poll(() => summary().textContent(), { timeout: 30_000, interval: 500 }).toContain(`${EAST}: down`);
    await shoot('06-region-killed');
    await openTab('Runbooks');
    await page.getByRole('row', { name: /^Settlement/ }).getByRole('button', { name: 'Disaster recovery', exact: true }).click({ timeout: 30_000 });
    const form = page.getByRole('form', { name: /^Disaster recovery: Settlement/ });
    await form.waitFor({ timeout: 10_000 });
    expect(await form.getByLabel('sourceRegion', { exact: true }).inputValue()).toBe(EAST);
    expect(await form.getByLabel('targetRegion', { exact: true }).inputValue()).toBe(WEST);
    await form.getByRole('button', { name: /^Start disaster recovery/i }).click();
    const execution = page.getByRole('region', { name: /^Execution\s/ });
    const heading = execution.getByRole('heading', { level: 2 });
    await expect.poll(async () => (await execution.locator('dt:text-is("state machine") + dd').textContent().catch(() => null)) ?? '', { timeout: 30_000, interval: 500 }).toBe('sm-disaster-recovery');
    const status = async () => /\b(RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED)\b/.exec((await heading.textContent()) ?? '')?.[1] ?? 'loading';
    await expect.poll(status, { timeout: ROTATION_MS, interval: 2_000 }).toMatch(/^(SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$/);
    await shoot('07-runbook-disaster-recovery-ended');

    // Assess
    const ended = (await heading.textContent()) ?? '';
    const problem = (await execution.locator('.notice').allTextContents()).join(' ');
    expect(ended, `the execution ended so: ${ended} ${problem}`).toContain('SUCCEEDED');
    expect(await execution.locator('dt:text-is("ended in") + dd').textContent()).toBe('Recovered');
    await expect.poll(() => summary().textContent(), { timeout: 10_000, interval: 500 }).toContain(`Settlement: ${WEST}`);
  }, ROTATION_MS + 120_000);
});
