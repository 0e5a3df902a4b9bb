import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiApp } from '../../src/app/api-app.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { PermanentError } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';
import { describeWithChromium, launchChromium, SCREENSHOT_DIR } from '../support/browser.js';
import { waitFor } from '../support/driver-wait.js';
import { seedUser } from '../webhooks/operator-fixtures.js';

const QUEUE = 'orders.integration';

describeWithChromium('operator dashboard: finding jobs in Chromium', (executablePath) => {
  let container: Container;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    container = await createContainer(await testConfig({ QUEUE_WAIT_WARN_S: '1' }), { logger: pino({ level: 'silent' }) });
    app = await buildApiApp(container);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const operator = await seedUser(container.database.db, 'Operator', Date.now());
    const { queue } = container;
    for (let itemId = 1; itemId <= 6; itemId++) await queue.enqueue(QUEUE, { itemId }, { maxAttempts: 1 });
    const worker = queue.work(QUEUE, async (payload) => Promise.reject(new PermanentError((payload as { itemId: number }).itemId <= 4 ? 'third party answered 503' : 'third party answered 422')), { concurrency: 2 });
    await waitFor(async () => (await queue.stats(QUEUE)).counts.parked === 6, 10_000, 'six parked jobs');
    await worker.stop(1_000);

    browser = await launchChromium(executablePath);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await page.goto(`${baseUrl}/admin#jobs`);
    await page.fill('#token', await container.auth.createToken(operator.id, 'dashboard', ['admin']));
    await page.click('#login-form button[type=submit]');
    await page.locator('#job-search').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await container?.close();
  });

  it('finds the parked jobs whose error says 503, and retries exactly those', async () => {
    expect(await page.locator('#search-total').textContent()).toBe('6 found');
    await page.selectOption('#job-search select[name=queue]', QUEUE);
    await page.fill('#job-search input[name=q]', '503');
    await page.click('#job-search button[type=submit]');
    await page.locator('#search-total', { hasText: '4 found' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(4);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-find-jobs.png'), fullPage: true });

    await page.click('#retry-found');
    expect(await page.locator('#confirm-text').textContent()).toContain('(4 found)');
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: '4 jobs sent back to orders.integration.' }).waitFor();
    expect((await container.queue.stats(QUEUE)).counts).toMatchObject({ ready: 4, parked: 2 });
    expect(await page.locator('#search-total').textContent()).toBe('0 found');
    expect(consoleErrors).toEqual([]);
  });

  it('warns on the Queues page once the oldest ready job has waited longer than QUEUE_WAIT_WARN_S', async () => {
    // The four retried jobs are ready, and no worker takes them.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await page.goto(page.url().replace('#jobs', '#queues'));
    const warning = page.locator('section[data-queue="orders.integration"] .long-wait');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/^Long wait: the oldest ready job has waited \d+\.\d s, since .*, more than 1 s \(QUEUE_WAIT_WARN_S\)\.$/);
    expect(await page.locator('section[data-queue="images.download"] .wait').textContent()).toBe('No job waits for a worker.');
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-queues-long-wait.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
