import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FinishedJobLog } from '../../src/platform/queue/finished-jobs.js';
import type { Worker } from '../../src/platform/queue/queue.js';
import { RunningJobs } from '../../src/platform/queue/running-jobs.js';
import { WorkerHeartbeat } from '../../src/platform/queue/worker-heartbeat.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';
import { deferred, waitFor } from '../support/driver-wait.js';

const QUEUE = 'orders.integration';

describeWithChromium('operator dashboard: pausing queues and the live workers in Chromium', (executablePath) => {
  let s: DashboardSession;

  beforeAll(async () => {
    s = await openDashboard(executablePath, { hash: 'queues', ready: `section[data-queue="${QUEUE}"] .queue-pause` });
  });
  afterAll(() => s?.close());

  it('pauses a queue behind the confirmation, shows since when and by whom, and resumes it', async () => {
    const { page, container } = s;
    const section = page.locator(`section[data-queue="${QUEUE}"]`);
    await section.locator('button[data-queue-action="pause"]').click();
    expect(await page.locator('#confirm-text').textContent()).toContain(`Pause ${QUEUE}?`);
    await page.click('#confirm-ok');
    await section.locator('.queue-pause[data-paused="true"]').waitFor();
    expect(await section.locator('.paused-since').textContent()).toMatch(/^Paused since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+00:00 by operator-\d+@example\.test\. No worker claims its jobs; new jobs wait\.$/i);
    expect((await container.queuePauses.get(QUEUE))?.by).toMatch(/@example\.test$/);
    expect(await page.locator('section[data-queue="images.download"] .queue-pause').getAttribute('data-paused')).toBe('false');
    await s.shoot('dashboard-queue-paused');

    await section.locator('button[data-queue-action="resume"]').click();
    await section.locator('.queue-pause[data-paused="false"]').waitFor();
    expect(await page.locator('#flash').textContent()).toBe(`${QUEUE}: resumed; its workers claim jobs again`);
    expect(await container.queuePauses.get(QUEUE)).toBeNull();
    expect(s.consoleErrors).toEqual([]);
  });

  it('lists the alive worker process with the job it runs, linked to the job’s page', async () => {
    const { page, container } = s;
    const running = new RunningJobs(container.clock);
    const log = new FinishedJobLog({ logger: pino({ level: 'silent' }), running });
    const release = deferred();
    const { handler } = log.wrap(QUEUE, () => release.promise, undefined, 'info');
    const heartbeat = new WorkerHeartbeat({
      database: container.database,
      clock: container.clock,
      logger: pino({ level: 'silent' }),
      everyMs: 200,
      role: 'worker',
      version: '1.2.3',
      queues: [{ queue: QUEUE, concurrency: 4 }],
      running,
    });
    let worker: Worker | undefined;
    try {
      await container.queue.enqueue(QUEUE, { itemId: 7 });
      worker = container.queue.work(QUEUE, handler, { concurrency: 4 });
      await waitFor(() => running.count === 1, 5_000, 'the job to start');
      await heartbeat.start();
      const [job] = running.list();

      await page.click('#nav a[href="#workers"]');
      const row = page.locator(`tr[data-worker="${heartbeat.id}"]`);
      await row.waitFor();
      expect(await page.locator('#nav a.active').textContent()).toBe('Workers');
      expect(await row.getAttribute('data-alive')).toBe('true');
      expect(await row.locator('.badge').textContent()).toBe('alive');
      const item = row.locator(`li[data-job="${job!.id}"]`);
      expect(await item.textContent()).toMatch(new RegExp(`^${QUEUE} #${job!.id} attempt 1, running \\d+\\.\\d s$`));
      expect(await item.locator('a').getAttribute('href')).toBe(`#job?queue=${encodeURIComponent(QUEUE)}&id=${job!.id}`);
      expect(await page.locator('#workers-summary').textContent()).toBe('1 worker process(es) alive on this page, running 1 job(s).');
      await s.shoot('dashboard-workers');
      expect(s.consoleErrors).toEqual([]);
    } finally {
      release.resolve();
      await worker?.stop(1_000);
      await heartbeat.stop();
    }
  });
});
