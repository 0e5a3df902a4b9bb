import { afterAll, beforeAll, expect, it } from 'vitest';
import { addToHistory } from '../../src/platform/queue/queue-history.repository.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';

const QUEUE = 'orders.integration';
const MINUTE = 60_000;
const counts = { completed: 0, retried: 0, failed: 0, parked: 0, started: 0, wait_total_ms: 0, wait_max_ms: 0 };

describeWithChromium('operator dashboard: queue history charts in Chromium', (executablePath) => {
  let s: DashboardSession;
  const seeded = { completed: 0, failed: 0 };

  beforeAll(async () => {
    s = await openDashboard(executablePath, {
      env: { QUEUE_WAIT_WARN_S: '2' },
      hash: 'queues',
      ready: 'section[data-queue="orders.integration"] svg[data-chart="wait"]',
      viewport: { width: 1280, height: 900 },
      // The last 50 minutes of a busy queue, as the workers would have written it: a steady rate,
      // an outage of failures 20 minutes ago, and waits that passed QUEUE_WAIT_WARN_S during it.
      seed: async ({ database, queue, clock }) => {
        const now = clock.now() - (clock.now() % MINUTE);
        for (let ago = 50; ago >= 1; ago--) {
          const outage = ago >= 18 && ago <= 22;
          const minute = { ...counts, completed: outage ? 5 : 600 + (ago % 7) * 20, failed: outage ? 40 : ago % 5, retried: outage ? 200 : 3 };
          minute.started = minute.completed + minute.failed + minute.retried;
          minute.wait_total_ms = minute.started * (outage ? 4_000 : 150);
          minute.wait_max_ms = outage ? 9_000 : 700;
          seeded.completed += minute.completed;
          seeded.failed += minute.failed;
          // One write per minute, as a worker flushes: the upsert adds each minute to its five-minute bucket.
          const start = now - ago * MINUTE;
          await addToHistory(database.db, [MINUTE, 5 * MINUTE].map((bucketMs) => ({ queue: QUEUE, bucket_ms: bucketMs, bucket_start: start - (start % bucketMs), ...minute })));
        }
        // A job no worker takes: the long-wait warning.
        await queue.enqueue(QUEUE, { itemId: 1 });
        await new Promise((resolve) => setTimeout(resolve, 2_200));
      },
    });
  });
  afterAll(() => s?.close());

  it('draws every queue’s throughput and wait charts, and warns of the long wait', async () => {
    const { page } = s;
    const section = page.locator(`section[data-queue="${QUEUE}"]`);
    const throughput = section.locator('svg[data-chart="throughput"]');
    expect(await throughput.getAttribute('data-range')).toBe('1h');
    expect(Number(await throughput.getAttribute('data-completed'))).toBe(seeded.completed);
    expect(Number(await throughput.getAttribute('data-failed'))).toBe(seeded.failed);
    expect(await throughput.locator('path[data-series="completed"]').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){59}$/);
    const wait = section.locator('svg[data-chart="wait"]');
    expect(Number(await wait.getAttribute('data-wait-max-ms'))).toBe(9_000);
    expect(await wait.locator('text', { hasText: 'QUEUE_WAIT_WARN_S 2 s' }).count()).toBe(1);
    expect(await section.locator('.long-wait').textContent()).toMatch(/^Long wait: the oldest ready job has waited .*more than 2 s \(QUEUE_WAIT_WARN_S\)\.$/);
    expect(await page.locator('svg[data-chart="throughput"]').count()).toBe(await page.locator('section[data-queue]').count());
    const box = await throughput.boundingBox();
    expect(box!.width).toBeGreaterThan(400);
    await s.shoot('dashboard-queue-history');
  });

  it('switches the charts to the last 14 days in five-minute buckets', async () => {
    const { page } = s;
    await page.click('.history-ranges a[href="#queues?range=14d"]');
    const throughput = page.locator(`section[data-queue="${QUEUE}"] svg[data-chart="throughput"][data-range="14d"]`);
    await throughput.waitFor();
    expect(await throughput.getAttribute('data-bucket-ms')).toBe(String(5 * MINUTE));
    expect(Number(await throughput.getAttribute('data-completed'))).toBe(seeded.completed);
    expect(await page.locator('.history-ranges a.active').textContent()).toBe('last 14d');
    await s.shoot('dashboard-queue-history-14d');
    expect(s.consoleErrors).toEqual([]);
  });
});
