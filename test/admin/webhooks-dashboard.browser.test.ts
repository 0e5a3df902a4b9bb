import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiApp } from '../../src/app/api-app.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { testConfig } from '../support/app.js';
import { describeWithChromium, launchChromium, SCREENSHOT_DIR } from '../support/browser.js';
import { seedDeliveries, seedEndpoint, seedUser } from '../webhooks/operator-fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TIME_FORMAT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+00:00$/;
/** More endpoints than one page of the dashboard holds (50). */
const QUIET_ENDPOINTS = 50;

describeWithChromium('operator dashboard: webhooks page in Chromium', (executablePath) => {
  let container: Container;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let ids: { healthy: number; failingOld: number; failingNew: number; disabled: number };
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }) });
    app = await buildApiApp(container);
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const db = container.database.db;
    const now = Date.now();
    const operator = await seedUser(db, 'Operator', now);
    const grace = await seedUser(db, 'Grace', now);
    const heidi = await seedUser(db, 'Heidi', now);
    ids = {
      healthy: await seedEndpoint(db, grace.id, now, { url: 'https://grace.example.test/hooks', description: 'shop sync', last_success_at: now - 2 * MINUTE }),
      failingNew: await seedEndpoint(db, grace.id, now, { url: 'https://grace.example.test/new', failing_since: now - HOUR }),
      failingOld: await seedEndpoint(db, heidi.id, now, { url: 'https://heidi.example.test/old', failing_since: now - 30 * HOUR }),
      disabled: await seedEndpoint(db, heidi.id, now, { url: 'https://heidi.example.test/gone', enabled: 0, disabled_reason: 'answered 410 Gone', disabled_at: now - HOUR }),
    };
    for (let i = 0; i < QUIET_ENDPOINTS; i++) await seedEndpoint(db, grace.id, now);
    await seedDeliveries(db, ids.healthy, grace.id, 4, { status: 'succeeded', createdAt: now - 5 * MINUTE });
    await seedDeliveries(db, ids.healthy, grace.id, 1, { status: 'pending', createdAt: now });
    await seedDeliveries(db, ids.failingOld, heidi.id, 2, { status: 'pending', attempts: 3, createdAt: now - 2 * HOUR, updatedAt: now - 3 * MINUTE });
    await seedDeliveries(db, ids.failingNew, grace.id, 1, { status: 'failed', createdAt: now - 2 * HOUR, updatedAt: now - 3 * MINUTE });

    browser = await launchChromium(executablePath);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await page.goto(`${baseUrl}/admin#webhooks`);
    await page.fill('#token', await container.auth.createToken(operator.id, 'dashboard', ['admin']));
    await page.click('#login-form button[type=submit]');
    await page.locator('#webhook-endpoints').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await container?.close();
  });

  const shoot = (name: string) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  const endpointRows = () => page.locator('#webhook-endpoints tbody tr');

  it('lists the endpoints by state, failing ones first, with owner, state, last success and open deliveries', async () => {
    expect(await page.locator('#page-title').textContent()).toBe('Webhooks');
    expect(await page.locator('#nav a.active').textContent()).toBe('Webhooks');
    const shown = await endpointRows().evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-endpoint'))));
    expect(shown.slice(0, 4)).toEqual([ids.disabled, ids.failingOld, ids.failingNew, ids.healthy]);
    expect(shown).toHaveLength(50);

    const disabled = page.locator(`tr[data-endpoint="${ids.disabled}"]`);
    expect(await disabled.getAttribute('data-state')).toBe('disabled');
    expect(await disabled.locator('td.state').textContent()).toBe('disabled answered 410 Gone');
    expect(await disabled.locator('td.user .name').textContent()).toBe('Heidi');

    const failing = page.locator(`tr[data-endpoint="${ids.failingOld}"]`);
    expect(await failing.locator('td.state .badge').textContent()).toBe('failing');
    expect(await failing.locator('td.state time').textContent()).toMatch(TIME_FORMAT);
    expect([await failing.locator('td.pending').textContent(), await failing.locator('td.failed').textContent()]).toEqual(['2', '0']);

    const healthy = page.locator(`tr[data-endpoint="${ids.healthy}"]`);
    expect(await healthy.locator('td.url').textContent()).toBe('https://grace.example.test/hooksshop sync');
    expect(await healthy.locator('td.events').textContent()).toBe('order.completed');
    expect(await healthy.locator('td.last-success time').textContent()).toMatch(TIME_FORMAT);
    expect(await page.locator(`tr[data-endpoint="${ids.failingNew}"] td.failed`).textContent()).toBe('1');
    expect(await page.locator('#page-body').textContent()).not.toMatch(/null|undefined|NaN/);
    await shoot('8-webhooks');
  });

  it('charts the deliveries of the last hour per minute by outcome, with the counts beside it', async () => {
    const box = page.locator('#webhook-deliveries');
    const tile = (name: string) => box.locator(`[data-tile="${name}"] .value`).textContent();
    expect([await tile('succeeded'), await tile('retrying'), await tile('failed')]).toEqual(['4', '2', '1']);
    expect(await box.locator('svg.chart g[data-minute]').count()).toBe(60);
    expect(await box.locator('svg.chart rect.succeeded').count()).toBe(1);
    expect(await box.locator('svg.chart rect.retrying').count()).toBe(1);
    expect(await box.locator('svg.chart rect.failed').count()).toBe(1);
    // The tallest bar reaches the top of the chart.
    const heights = await box.locator('svg.chart rect').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(Math.max(...heights)).toBe(140);
    const busy = await box.locator('tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td.num')].map((cell) => Number(cell.textContent))));
    expect(busy).toEqual([
      [4, 0, 0],
      [0, 2, 1],
    ]);
    expect(await box.locator('svg.chart g[data-minute] title').first().textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+00:00: 0 succeeded, 0 retrying, 0 failed$/);
  });

  it('pages through the endpoints with Next and Previous', async () => {
    const pager = page.locator('#webhook-endpoints .pager').first();
    expect(await pager.locator('.range').textContent()).toBe(`1–50 of ${QUIET_ENDPOINTS + 4}`);
    await pager.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(() => pager.locator('.range').textContent()).toBe(`51–${QUIET_ENDPOINTS + 4} of ${QUIET_ENDPOINTS + 4}`);
    expect(await endpointRows().count()).toBe(4);
    await pager.getByRole('button', { name: '‹ Previous' }).click();
    await expect.poll(() => pager.locator('.range').textContent()).toBe(`1–50 of ${QUIET_ENDPOINTS + 4}`);
  });

  it('fits a 390 px wide screen without the page scrolling sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.reload();
      await page.locator('#webhook-endpoints tbody tr').first().waitFor();
      expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
      expect(await page.locator(`tr[data-endpoint="${ids.disabled}"] td.state`).getAttribute('data-label')).toBe('state');
      await shoot('8-webhooks-390px');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('breaks no rule of the content security policy', () => {
    expect(consoleErrors).toEqual([]);
  });
});
