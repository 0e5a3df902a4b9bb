import { afterAll, beforeAll, expect, it } from 'vitest';
import { listAttemptsOfJob } from '../../src/platform/queue/job-attempts.repository.js';
import { PermanentError, RetryableError } from '../../src/platform/queue/queue.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';
import { waitFor } from '../support/driver-wait.js';

const QUEUE = 'orders.integration';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describeWithChromium('operator dashboard: recent jobs, and a job with every attempt, in Chromium', (executablePath) => {
  let s: DashboardSession;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    s = await openDashboard(executablePath, {
      hash: 'recent',
      ready: '#recent-kind',
      // One job that failed twice before it completed, one refused for good (parked); run by the app's own queue, so recorded as a worker records them.
      seed: async ({ queue, database }) => {
        await queue.enqueue(QUEUE, { itemId: 7 }, { maxAttempts: 5, priority: 3, headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } });
        await queue.enqueue(QUEUE, { itemId: 8 }, { maxAttempts: 5 });
        const worker = queue.work(
          QUEUE,
          async (payload, job) => {
            const { itemId } = payload as { itemId: number };
            ids[itemId] = job.id;
            if (itemId === 8) throw new PermanentError('third party answered 422');
            if (job.attempt < 3) throw new RetryableError(`third party answered 503 (attempt ${job.attempt})`);
          },
          { concurrency: 2, backoff: { baseMs: 5, maxMs: 20 } },
        );
        const recorded = async (itemId: number, rows: number) => ids[itemId] !== undefined && (await listAttemptsOfJob(database.db, QUEUE, ids[itemId]!)).length === rows;
        await waitFor(async () => (await recorded(7, 3)) && (await recorded(8, 2)), 10_000, 'every attempt recorded');
        await worker.stop(1_000);
      },
    });
  });
  afterAll(() => s?.close());

  it('lists the recent failed and completed jobs of a queue, and opens a job with every attempt', async () => {
    const { page } = s;
    // Failed or parked is the first tab.
    await page.locator(`tr[data-job="${ids[8]}"]`).waitFor();
    expect(await page.locator('#recent-total').textContent()).toMatch(/^1 job whose latest attempt is failed or parked/);
    expect(await page.locator(`tr[data-job="${ids[8]}"]`).textContent()).toContain('third party answered 422');

    await page.click('#recent-kind button[data-value="completed"]');
    const row = page.locator(`tr[data-job="${ids[7]}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('completed');
    expect(await row.locator('pre').textContent()).toBe('{"itemId":7}');
    await s.shoot('dashboard-recent-jobs');

    await row.locator('a.job-page-link').click();
    await page.locator('#job-attempts tbody tr').first().waitFor();
    expect(page.url()).toContain(`#job?queue=${encodeURIComponent(QUEUE)}&id=${ids[7]}`);
    const outcomes = await page.locator('#job-attempts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')));
    expect(outcomes).toEqual(['retried', 'retried', 'completed']);
    const errors = await page.locator('#job-attempts tbody tr td.error-text').allTextContents();
    expect(errors).toEqual(['third party answered 503 (attempt 1)', 'third party answered 503 (attempt 2)', '—']);
    expect(await page.locator('#trace-id').textContent()).toBe(TRACE_ID);
    expect(await page.locator('#job-summary').textContent()).toContain('finished, or unknown to the queue');
    expect(await page.locator('#job-payload').textContent()).toContain('"itemId": 7');
    expect(await page.locator('#job-headers').textContent()).toContain(TRACE_ID);
    expect(await page.locator('#retry-job').count()).toBe(0);
    await s.shoot('dashboard-job-attempts');
    expect(s.consoleErrors).toEqual([]);
  });

  it('goes from a parked job to its page, and retries it there after a confirmation', async () => {
    const { page, container } = s;
    await page.goto(page.url().replace(/#.*$/, '#parked'));
    await page.locator(`tr[data-job="${ids[8]}"] a.job-page-link`).click();
    await page.locator('#retry-job').waitFor();
    expect(await page.locator('#job-summary .badge').textContent()).toBe('parked');
    expect(await page.locator('#job-attempts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')))).toEqual(['failed', 'parked']);
    await page.click('#retry-job');
    expect(await page.locator('#confirm-text').textContent()).toBe(`Retry parked job ${ids[8]} of ${QUEUE} with fresh attempts?`);
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: `Job ${ids[8]} sent back to ${QUEUE}.` }).waitFor();
    expect((await container.queue.stats(QUEUE)).counts).toMatchObject({ ready: 1, parked: 0 });
    await page.locator('#job-summary .badge', { hasText: 'ready' }).waitFor();
    expect(s.consoleErrors).toEqual([]);
  });

  it('links a found job to its page', async () => {
    const { page } = s;
    await page.goto(page.url().replace(/#.*$/, `#jobs?queue=${encodeURIComponent(QUEUE)}&state=ready`));
    await page.locator(`tr[data-job="${ids[8]}"] a.job-page-link`).click();
    await page.locator('#job-summary').waitFor();
    expect(await page.locator('#job-payload').textContent()).toContain('"itemId": 8');
    expect(s.consoleErrors).toEqual([]);
  });
});
