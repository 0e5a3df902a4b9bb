import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiApp } from '../../src/app/api-app.js';
import { startMockCdn, type MockCdn } from '../../dev/catalog/index.js';
import { createContainer, createJobRegistry, type Container } from '../../src/app/container.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { VERSION } from '../../src/app/version.js';
import type { Worker } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';
import { describeWithChromium, launchChromium, SCREENSHOT_DIR } from '../support/browser.js';
import { waitFor } from '../support/driver-wait.js';
import { startFakeThirdParty, type FakeThirdParty } from '../orders/fake-third-party.js';
import type { FastifyInstance } from 'fastify';
import { FEED100_FIXTURE } from '../support/fixtures.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import type { QueueTables } from '../../src/platform/queue/jobs.table.js';

const FIXTURE = FEED100_FIXTURE;
/** Two thumbnails the CDN does not have, so that the image cache shows failures. */
const MISSING_IMAGES = 2;
/** The browser's zone: a half-hour offset and no daylight saving time, so that the expected text never moves. */
const TIMEZONE = 'Asia/Kolkata';
const OFFSET_MS = 5.5 * 3_600_000;
/** How the page must show `epochMs` in TIMEZONE. */
const shownAt = (epochMs: number) => `${new Date(epochMs + OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')} UTC+05:30`;
const TIME_FORMAT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+05:30$/;
const jobs = tablesOf<QueueTables>();

describeWithChromium('operator dashboard in Chromium', (executablePath) => {
  let container: Container;
  let app: FastifyInstance;
  let cdn: MockCdn;
  let thirdParty: FakeThirdParty;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let tokens: { operator: string; customer: string };
  let items: { flaky: number; doomed: number };

  beforeAll(async () => {
    const feedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-dashboard-feed-'));
    const missing = new Set<string>();
    cdn = await startMockCdn({ faultFor: (requestPath) => (missing.has(requestPath) ? { kind: 'status', status: 404 } : undefined) });
    const feed = fs.readFileSync(FIXTURE, 'utf8').replaceAll('https:\\/\\/ei.phncdn.com', cdn.url.replaceAll('/', '\\/'));
    const imagePaths = [...new Set([...feed.matchAll(/"(http:[^"]+?\.jpg)"/g)].map((m) => new URL(m[1]!.replaceAll('\\/', '/')).pathname))];
    for (const imagePath of imagePaths.slice(0, MISSING_IMAGES)) missing.add(imagePath);
    const feedFile = path.join(feedDir, 'feed.json');
    fs.writeFileSync(feedFile, feed);

    // The third party refuses the flaky plan once and the doomed plan always: both are parked at once.
    let flakyRefused = false;
    thirdParty = await startFakeThirdParty((request) => {
      const label = (request.body as { ProductName: string }).ProductName;
      if (label === 'Doomed plan' || (label === 'Flaky plan' && !flakyRefused)) {
        flakyRefused ||= label === 'Flaky plan';
        return { status: 400, body: '{"error":"rejected"}' };
      }
      return { status: 201 };
    });

    const config = await testConfig({ FEED_URL: feedFile, IMAGE_ALLOW_PRIVATE_HOSTS: 'true', JOB_BACKOFF_MS: '10', JOB_BACKOFF_MAX_MS: '50' });
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    app = await buildApiApp(container);
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const jobs = createJobRegistry(container, thirdParty.url);
    closeJobs = jobs.close;
    workers = jobs.registry.start(container.queue, { concurrency: 2 });

    const operator = await container.auth.createUser({ name: 'Operator', email: 'ops@example.test', password: 'correct horse battery' });
    const customer = await container.auth.createUser({ name: 'Customer', email: 'customer@example.test', password: 'correct horse battery' });
    tokens = { operator: await container.auth.createToken(operator.id, 'dashboard', ['admin']), customer: await container.auth.createToken(customer.id, 'shop', ['orders']) };
    const order = await app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { authorization: `Bearer ${tokens.customer}` },
      payload: {
        client: { identity: 'ACME Corp', contact_point: 'ops@acme.test' },
        contents: [
          { label: 'Flaky plan', kind: 'recurring', cost: 19.99, meta: { priority: 'high' } },
          { label: 'Doomed plan', kind: 'recurring', cost: 5 },
          { label: 'Setup fee', kind: 'single', cost: 49 },
        ],
      },
    });
    expect(order.statusCode).toBe(201);
    const contents = order.json<{ order: { contents: Array<{ id: number; label: string }> } }>().order.contents;
    items = { flaky: contents.find((c) => c.label === 'Flaky plan')!.id, doomed: contents.find((c) => c.label === 'Doomed plan')!.id };
    await waitFor(async () => (await container.queue.stats(orderIntegrationJob.queue)).counts.parked === 2, 10_000, 'both plans to be parked');
    await container.history.flush();

    browser = await launchChromium(executablePath);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: TIMEZONE });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(workers.map((w) => w.stop(1_000)));
    await closeJobs?.();
    await app?.close();
    await container?.close();
    await thirdParty?.close();
    await cdn?.close();
  });

  const nav = (name: string) => page.locator('#nav').getByRole('link', { name, exact: true }).click();
  const shoot = (name: string, fullPage = true) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage });
  const parkedRow = (itemId: number) => page.locator('tbody tr', { hasText: `"itemId": ${itemId}` });
  const flash = () => page.locator('#flash');

  /** Reloads the page (the token stays in the tab's sessionStorage) until `check` holds. */
  async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await page.locator('#page-status').filter({ hasText: 'updated' }).waitFor();
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await page.waitForTimeout(250);
      await page.reload();
    }
  }

  /** Every `<time>` on the page in the one format, with its instant in UTC as the tooltip. */
  async function expectTimesInOneFormat(): Promise<number> {
    const times = await page.locator('#page-body time').evaluateAll((elements) => elements.map((e) => ({ text: e.textContent, title: e.getAttribute('title'), datetime: e.getAttribute('datetime') })));
    for (const t of times) {
      expect(t.text).toMatch(TIME_FORMAT);
      expect(t.title).toBe(t.datetime);
      expect(t.text).toBe(shownAt(Date.parse(t.title!)));
    }
    expect(await page.locator('#page-status').textContent()).toMatch(/^updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+05:30$/);
    // No ISO stamps left in the text of the page.
    expect(await page.locator('#page-body').textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    return times.length;
  }

  /** Headings of numeric columns (cells of class `num`) that are not right-aligned like their numbers. */
  function misalignedHeadings(): Promise<string[]> {
    // Run in the page (this project compiles without the DOM's types).
    return page.evaluate(`[...document.querySelectorAll('#page-body table')].flatMap((table) => {
      const headings = [...table.querySelectorAll('thead th')];
      const numeric = new Set([...table.querySelectorAll('tbody tr')].flatMap((row) => [...row.children].flatMap((cell, i) => (cell.classList.contains('num') ? [i] : []))));
      const align = (element) => (element ? getComputedStyle(element).textAlign : 'missing');
      return [...numeric]
        .filter((i) => align(headings[i]) !== 'right' || align(table.querySelector('tbody tr > :nth-child(' + (i + 1) + ')')) !== 'right')
        .map((i) => headings[i]?.textContent ?? 'column ' + i);
    })`);
  }

  /** Whether the page is wider than the viewport (it must scroll inside its tables, never as a whole). */
  const pageOverflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

  async function confirmDialog(answer: 'Confirm' | 'Cancel', click: Locator): Promise<string> {
    await click.click();
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    const text = (await dialog.locator('#confirm-text').textContent()) ?? '';
    await dialog.getByRole('button', { name: answer }).click();
    await dialog.waitFor({ state: 'hidden' });
    return text;
  }

  it('refuses a wrong token and a token without the admin ability, and keeps tokens out of the URL', async () => {
    await page.goto(`${baseUrl}/admin`);
    await page.locator('#login').waitFor();
    // Before sign-in the page shows no navigation.
    expect(await page.locator('#nav').isVisible()).toBe(false);
    expect(await page.locator('#nav a').first().boundingBox()).toBeNull();
    // Its icon is the service's favicon.
    const icons = await page.locator('link[rel=icon]').evaluateAll((links) => links.map((l) => l.getAttribute('href')!));
    expect(icons).toEqual(['/favicon.svg', '/favicon.ico']);
    for (const icon of icons) expect(await page.evaluate(async (url) => (await fetch(url)).status, icon)).toBe(200);
    await page.fill('#token', 'not-a-token');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.locator('#login-error').textContent()).toBe('This token is not valid.');
    await page.fill('#token', tokens.customer);
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.locator('#login-error').textContent()).toBe('This token lacks the admin ability.');
    await shoot('0-sign-in');

    expect(await page.locator('#nav').isVisible()).toBe(false);

    await page.fill('#token', tokens.operator);
    await page.click('#login-form button[type=submit]');
    await page.locator('section[data-queue="orders.integration"]').waitFor();
    expect(page.url()).toBe(`${baseUrl}/admin`);
    expect(await page.locator('#nav').isVisible()).toBe(true);
  });

  it('formats every time one way: the browser’s zone, with its UTC offset', async () => {
    const instant = Date.UTC(2026, 11, 4, 9, 2, 5);
    const expected: Record<string, string> = {
      UTC: '2026-12-04 09:02:05 UTC+00:00',
      'America/St_Johns': '2026-12-04 05:32:05 UTC-03:30',
      'Asia/Kathmandu': '2026-12-04 14:47:05 UTC+05:45',
    };
    for (const [timezoneId, text] of Object.entries(expected)) {
      const context = await browser.newContext({ timezoneId });
      try {
        const other = await context.newPage();
        await other.goto(`${baseUrl}/admin`);
        const shown = await other.evaluate(`import('/admin/assets/dom.js').then((dom) => [dom.formatTime(${instant}), dom.formatTime('${new Date(instant).toISOString()}'), dom.formatTime(null)])`);
        expect(shown, timezoneId).toEqual([text, text, '—']);
      } finally {
        await context.close();
      }
    }
  });

  it('shows the root index to a browser as a small page, its style allowed by its content security policy', async () => {
    const other = await browser.newPage({ viewport: { width: 800, height: 500 } });
    try {
      const errors: string[] = [];
      other.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      const response = await other.goto(`${baseUrl}/`);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(await other.locator('h1').textContent()).toBe(`intake ${VERSION}`);
      const links = await other.locator('li a').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')));
      expect(links).toEqual(['/docs', '/openapi.json', '/health', '/ready', '/metrics', '/admin']);
      // The inline style ran: its hash is in the policy.
      expect(await other.evaluate<string>('getComputedStyle(document.body).maxWidth')).toBe('640px');
      expect(errors).toEqual([]);
      await other.screenshot({ path: path.join(SCREENSHOT_DIR, '7-root-index.png') });
      await other.getByRole('link', { name: '/admin' }).click();
      await other.locator('#login').waitFor();
    } finally {
      await other.close();
    }
  });

  it('shows each queue with its depth by state and priority and the jobs finished per minute', async () => {
    const orders = page.locator('section[data-queue="orders.integration"]');
    await expect.poll(() => orders.locator('tr[data-state="parked"] td.total').textContent()).toBe('2');
    // high (3) and normal (2) are the 3rd and 4th priority columns after the state's total.
    const parked = await orders.locator('tr[data-state="parked"] td').allTextContents();
    expect(parked).toEqual(['2', '0', '0', '1', '1', '0']);
    // The jobs finished a moment ago: in this minute, or the last one if a minute began since.
    const minutes = await orders.locator('table').nth(1).locator('tbody tr').all();
    const finished = [0, 0, 0, 0];
    for (const minute of minutes) (await minute.locator('td.num').allTextContents()).forEach((count, i) => (finished[i]! += Number(count)));
    expect(finished).toEqual([0, 0, 2, 2]);
    await page.locator('section[data-queue="images.download"]').waitFor();
    expect(await misalignedHeadings()).toEqual([]);
    expect(await page.locator('th.num', { hasText: 'total' }).count()).toBeGreaterThan(0);
    // Each minute in the one format of every time on the page.
    expect(await expectTimesInOneFormat()).toBeGreaterThanOrEqual(5);
    await shoot('1-queues');
  });

  it('lists the parked jobs with payload, last error and attempts, and re-drives one until its item completes', async () => {
    await nav('Parked jobs');
    await parkedRow(items.flaky).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(2);
    expect(await page.locator('#page-body').textContent()).not.toMatch(/null|undefined/);
    const row = parkedRow(items.flaky);
    expect(await row.locator('td').nth(2).textContent()).toBe(`1 / ${container.config.jobMaxAttempts}`);
    expect(await row.locator('td.error-text').textContent()).toContain('400');
    // Parked at: in the browser's zone with its offset; the tooltip holds the instant in UTC.
    const [parked] = (await container.queue.parked(orderIntegrationJob.queue, { limit: 100 })).filter((job) => (job.payload as { itemId: number }).itemId === items.flaky);
    expect(await row.locator('td time').textContent()).toBe(shownAt(parked!.parkedAt));
    expect(await row.locator('td time').getAttribute('title')).toBe(new Date(parked!.parkedAt).toISOString());
    await expectTimesInOneFormat();
    expect(await misalignedHeadings()).toEqual([]);
    // Two jobs fit on one page: no pager.
    expect(await page.locator('.pager').count()).toBe(0);
    await shoot('2-parked');

    const jobId = await row.locator('td').first().textContent();
    await row.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => flash().textContent()).toBe(`Job ${jobId} sent back to orders.integration.`);
    await nav('Orders');
    const flakyItem = page.locator(`li[data-item="${items.flaky}"]`);
    await until(async () => (await flakyItem.locator('.badge').textContent()) === 'completed', 'the re-driven item to complete');
    expect(await page.locator(`li[data-item="${items.doomed}"] .badge`).textContent()).toBe('failed');
    // The order shows its owner by name and email (the id in the tooltip), and when it was made.
    const orderRow = page.locator('tr', { has: flakyItem });
    expect(await orderRow.locator('td.user .name').textContent()).toBe('Customer');
    expect(await orderRow.locator('td.user .email').textContent()).toBe('customer@example.test');
    expect(await orderRow.locator('td.user').getAttribute('title')).toMatch(/^user \d+$/);
    expect(await orderRow.locator('td time').textContent()).toMatch(TIME_FORMAT);
    await expectTimesInOneFormat();
    expect(await misalignedHeadings()).toEqual([]);
    await shoot('3-orders');
  });

  it('fits the orders on a 390 px wide screen, stacked, without the page scrolling sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.reload();
      const row = page.locator('tr[data-order]').first();
      await row.waitFor();
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(await pageOverflow()).toBeLessThanOrEqual(0);
      // Each cell stacked under its heading, within the screen.
      expect(await row.locator('td.user').getAttribute('data-label')).toBe('user');
      const box = (await row.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(await row.locator('td.user .email').isVisible()).toBe(true);
      await shoot('3-orders-390px');
      await nav('Parked jobs');
      await page.locator('#page-body').getByText(/No parked jobs|Retry all/).first().waitFor();
      expect(await pageOverflow()).toBeLessThanOrEqual(0);
      await nav('Queues');
      await page.locator('section[data-queue="orders.integration"]').waitFor();
      expect(await pageOverflow()).toBeLessThanOrEqual(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('retries all and purges all only after a confirmation', async () => {
    await nav('Parked jobs');
    await parkedRow(items.doomed).waitFor();
    expect(await confirmDialog('Confirm', page.getByRole('button', { name: 'Retry all' }))).toContain('Retry all 1 parked jobs of orders.integration');
    await expect.poll(() => flash().textContent()).toBe('1 jobs sent back to orders.integration.');
    // The third party refuses the doomed plan again: it is parked again.
    await until(async () => (await parkedRow(items.doomed).count()) === 1, 'the doomed plan to be parked again');

    const purgeAll = page.getByRole('button', { name: 'Purge all' });
    expect(await confirmDialog('Cancel', purgeAll)).toContain('cannot be recovered');
    expect(await parkedRow(items.doomed).count()).toBe(1);
    expect((await container.queue.stats(orderIntegrationJob.queue)).counts.parked).toBe(1);
    await confirmDialog('Confirm', purgeAll);
    await expect.poll(() => flash().textContent()).toBe('1 parked jobs deleted.');
    await page.getByText('No parked jobs in orders.integration.').waitFor();
    expect((await container.queue.stats(orderIntegrationJob.queue)).counts.parked).toBe(0);
  });

  it('pages through more than 100 parked jobs with Next and Previous', async () => {
    const count = 130;
    const now = Date.now();
    // Parked as a worker would leave them, written in one statement instead of failing 130 jobs.
    await jobs(container.database.db)
      .insertInto('jobs')
      .values(
        Array.from({ length: count }, (_, i) => ({
          queue: orderIntegrationJob.queue,
          payload: JSON.stringify({ itemId: 900_000 + i }),
          headers: '{}',
          priority: 2,
          state: 'parked' as const,
          attempts: 1,
          max_attempts: 1,
          available_at: now,
          lease_until: null,
          locked_by: null,
          dedupe_key: null,
          last_error: `seeded failure ${i}`,
          created_at: now - 60_000,
          updated_at: now - count + i,
        })),
      )
      .execute();
    try {
      // The page is on Parked jobs already: it shows them at once when entered anew.
      await nav('Queues');
      await nav('Parked jobs');
      const pager = page.locator('.pager').first();
      const rows = page.locator('tr[data-job]');
      await expect.poll(() => pager.locator('.range').textContent()).toBe(`1–100 of ${count}`);
      expect(await rows.count()).toBe(100);
      expect(await pager.getByRole('button', { name: '‹ Previous' }).isDisabled()).toBe(true);
      // Newest parked first.
      expect(await rows.first().locator('pre').textContent()).toContain(`"itemId": ${900_000 + count - 1}`);
      await shoot('6-parked-page-1', false);

      const next = () => pager.getByRole('button', { name: 'Next ›' }).click();
      await next();
      await expect.poll(() => pager.locator('.range').textContent()).toBe(`101–${count} of ${count}`);
      expect(await rows.count()).toBe(count - 100);
      expect(await rows.last().locator('pre').textContent()).toContain('"itemId": 900000');
      expect(await pager.getByRole('button', { name: 'Next ›' }).isDisabled()).toBe(true);
      // The page stays put across the refresh every few seconds.
      const status = page.locator('#page-status');
      const shown = await status.textContent();
      await expect.poll(() => status.textContent(), { timeout: 10_000 }).not.toBe(shown);
      expect(await pager.locator('.range').textContent()).toBe(`101–${count} of ${count}`);
      await shoot('6-parked-page-2');

      await pager.getByRole('button', { name: '‹ Previous' }).click();
      await expect.poll(() => pager.locator('.range').textContent()).toBe(`1–100 of ${count}`);
      await next();
      await expect.poll(() => pager.locator('.range').textContent()).toBe(`101–${count} of ${count}`);

      // When the page's jobs are gone, the page shows the last page that is left.
      const onPage2 = await rows.evaluateAll((elements) => elements.map((e) => e.getAttribute('data-job')!));
      expect(await container.queue.purgeParked(orderIntegrationJob.queue, onPage2)).toBe(count - 100);
      await page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))");
      await expect.poll(() => rows.count()).toBe(100);
      expect(await page.locator('.pager').count()).toBe(0);
    } finally {
      await container.queue.purgeParked(orderIntegrationJob.queue);
    }
  });

  it('runs an ingestion and shows the run with its counts', async () => {
    await container.store.set('lock:feed-ingest', JSON.stringify({ token: 't', holder: 'other-host:7', since: Date.parse('2026-12-03T02:00:00Z') }), 60_000);
    await nav('Feed runs');
    await page.getByText('No feed runs yet.').waitFor();
    await until(async () => (await page.locator('#feed-lock').count()) === 1, 'the lock holder to show');
    expect(await page.locator('#feed-lock').textContent()).toBe('Ingestion running: held by other-host:7 since 2026-12-03 07:30:00 UTC+05:30.');
    expect(await page.getByRole('button', { name: 'Ingestion running…' }).isDisabled()).toBe(true);
    await container.store.delete('lock:feed-ingest');
    await until(async () => (await page.locator('#feed-lock').count()) === 0, 'the lock holder to go');
    await page.getByRole('button', { name: 'Run ingestion now' }).click();
    await expect.poll(() => flash().textContent()).toBe('Feed ingestion queued: a worker runs it.');
    const run = page.locator('tbody tr').first();
    await until(async () => (await run.locator('.badge').textContent()) === 'succeeded', 'the run to succeed');
    const cells = await run.locator('td').allTextContents();
    expect(cells.slice(1, 3)).toEqual(['succeeded', 'api']);
    expect(cells.slice(5, 8)).toEqual(['100', '100', '100']);
    expect(await misalignedHeadings()).toEqual([]);
    await expectTimesInOneFormat();
    await shoot('4-feed');
  });

  it('shows the image cache and re-drives the failed downloads', async () => {
    await nav('Image cache');
    const tile = (name: string) => page.locator(`[data-tile="${name}"] .value`);
    await until(async () => (await tile('pending').textContent()) === '0', 'every image to be downloaded or failed', 30_000);
    expect(await tile('failed').textContent()).toBe(String(MISSING_IMAGES));
    expect(Number(await tile('cached').textContent())).toBeGreaterThan(0);
    expect(await tile('bytes cached').textContent()).toMatch(/\d+(\.\d)? (B|KB|MB)/);
    await shoot('5-images');

    await page.getByRole('button', { name: `Retry failed downloads (${MISSING_IMAGES})` }).click();
    await expect.poll(() => flash().textContent()).toMatch(new RegExp(`^${MISSING_IMAGES} failed images sent back for download`));
  });

  it('signs the operator out when the token is revoked behind the page’s back, and signs out on request', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: `Bearer ${tokens.operator}` } })).statusCode).toBe(200);
    await page.reload();
    await page.locator('#login').waitFor();
    expect(await page.locator('#login-error').textContent()).toBe('The token was refused; sign in again.');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    const user = await container.auth.createUser({ name: 'Second operator', email: 'ops2@example.test', password: 'correct horse battery' });
    await page.fill('#token', await container.auth.createToken(user.id, 'dashboard', ['admin']));
    await page.click('#login-form button[type=submit]');
    // Back on the page the operator was on.
    await page.locator('[data-tile="images"]').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
