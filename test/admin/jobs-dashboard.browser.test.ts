import { afterAll, beforeAll, expect, it } from 'vitest';
import { PermanentError } from '../../src/platform/queue/queue.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';
import { waitFor } from '../support/driver-wait.js';

const QUEUE = 'orders.integration';

describeWithChromium('operator dashboard: finding jobs in Chromium', (executablePath) => {
  let s: DashboardSession;

  beforeAll(async () => {
    s = await openDashboard(executablePath, {
      env: { QUEUE_WAIT_WARN_S: '1' },
      hash: 'jobs',
      ready: '#job-search',
      // Six parked jobs: four whose third party answered 503, two 422.
      seed: async ({ queue }) => {
        for (let itemId = 1; itemId <= 6; itemId++) await queue.enqueue(QUEUE, { itemId }, { maxAttempts: 1 });
        const worker = queue.work(QUEUE, async (payload) => Promise.reject(new PermanentError((payload as { itemId: number }).itemId <= 4 ? 'third party answered 503' : 'third party answered 422')), { concurrency: 2 });
        await waitFor(async () => (await queue.stats(QUEUE)).counts.parked === 6, 10_000, 'six parked jobs');
        await worker.stop(1_000);
      },
    });
  });
  afterAll(() => s?.close());

  it('finds the parked jobs whose error says 503, and retries exactly those', async () => {
    const { page, container } = s;
    expect(await page.locator('#search-total').textContent()).toBe('6 found');
    await page.selectOption('#job-search select[name=queue]', QUEUE);
    await page.fill('#job-search input[name=q]', '503');
    await page.click('#job-search button[type=submit]');
    await page.locator('#search-total', { hasText: '4 found' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(4);
    await s.shoot('dashboard-find-jobs');

    await page.click('#retry-found');
    expect(await page.locator('#confirm-text').textContent()).toContain('(4 found)');
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: '4 jobs sent back to orders.integration.' }).waitFor();
    expect((await container.queue.stats(QUEUE)).counts).toMatchObject({ ready: 4, parked: 2 });
    // The page searches again after the flash: waited for, not read at once.
    await page.locator('#search-total', { hasText: '0 found' }).waitFor({ timeout: 5_000 });
    expect(s.consoleErrors).toEqual([]);
  });

  it('warns on the Queues page once the oldest ready job has waited longer than QUEUE_WAIT_WARN_S', async () => {
    const { page } = s;
    // The four retried jobs are ready, and no worker takes them.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await page.goto(page.url().replace('#jobs', '#queues'));
    const warning = page.locator('section[data-queue="orders.integration"] .long-wait');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/^Long wait: the oldest ready job has waited \d+\.\d s, since .*, more than 1 s \(QUEUE_WAIT_WARN_S\)\.$/);
    expect(await page.locator('section[data-queue="images.download"] .wait').textContent()).toBe('No job waits for a worker.');
    await s.shoot('dashboard-queues-long-wait');
    expect(s.consoleErrors).toEqual([]);
  });
});
