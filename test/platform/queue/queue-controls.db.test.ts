import fs from 'node:fs';
import os from 'node:os';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../../src/app/container.js';
import { sweep } from '../../../src/app/maintenance.js';
import type { Database } from '../../../src/platform/db/database.js';
import { PausedQueues } from '../../../src/platform/queue/paused-queues.js';
import { RunningJobs } from '../../../src/platform/queue/running-jobs.js';
import { WorkerHeartbeat } from '../../../src/platform/queue/worker-heartbeat.js';
import { testConfig } from '../../support/app.js';
import { manualClock, type ManualClock } from '../../support/driver-clock.js';
import { testDialect } from '../../support/driver-databases.js';
import { waitFor } from '../../support/driver-wait.js';
import { captureLogs } from '../../support/log-capture.js';

const QUEUE = 'orders.integration';

describe(`queue pauses and worker heartbeats (${testDialect()})`, () => {
  let container: Container;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = manualClock(Date.now());
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }), clock });
  });
  afterAll(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await container.database.db.deleteFrom('queue_pauses').execute();
    await container.database.db.deleteFrom('worker_processes').execute();
  });

  describe('QueuePauses', () => {
    it('keeps the first pause of a queue, with its operator and reason, until it is resumed', async () => {
      const { queuePauses } = container;
      const first = await queuePauses.pause(QUEUE, 'ops@example.test', 'third party migrating');
      expect(first).toEqual({ changed: true, pause: { queue: QUEUE, at: clock.now(), by: 'ops@example.test', reason: 'third party migrating' } });
      clock.advance(5_000);
      expect(await queuePauses.pause(QUEUE, 'cli')).toEqual({ changed: false, pause: first.pause });
      await queuePauses.pause('images.download', 'cli');
      expect([...(await queuePauses.all()).keys()]).toEqual(['images.download', QUEUE]);
      expect(await queuePauses.resume(QUEUE)).toBe(true);
      expect(await queuePauses.resume(QUEUE)).toBe(false);
      expect(await queuePauses.get(QUEUE)).toBeNull();
      expect((await queuePauses.get('images.download'))?.by).toBe('cli');
    });
  });

  describe('PausedQueues, what every worker process polls', () => {
    it('sees a pause and a resume at its next poll, and logs each once', async () => {
      const logs = captureLogs();
      const paused = new PausedQueues({ database: container.database, logger: pino({ level: 'info' }, logs.destination), pollMs: 50 });
      let changes = 0;
      paused.subscribe(() => changes++);
      await paused.start();
      expect(paused.isPaused(QUEUE)).toBe(false);
      await container.queuePauses.pause(QUEUE, 'ops@example.test', 'maintenance');
      await waitFor(() => paused.isPaused(QUEUE), 1_000, 'the pause');
      await container.queuePauses.resume(QUEUE);
      await waitFor(() => !paused.isPaused(QUEUE), 1_000, 'the resume');
      paused.stop();
      expect(changes).toBe(2);
      expect(logs.records().map((r) => [r.msg, r.queue])).toEqual([
        [`queue ${QUEUE} is paused: its workers claim no new job`, QUEUE],
        [`queue ${QUEUE} is resumed: its workers claim jobs again`, QUEUE],
      ]);
      expect(logs.records()[0]).toMatchObject({ pausedBy: 'ops@example.test', reason: 'maintenance' });
    });

    it('keeps the last known state while the table cannot be read, says so once, and follows again once it can', async () => {
      await container.queuePauses.pause(QUEUE, 'cli');
      let down = false;
      const unreachable = {
        selectFrom: () => {
          throw new Error('connect ECONNREFUSED');
        },
      };
      const flaky = new Proxy(container.database, { get: (target, key) => (key === 'db' && down ? unreachable : Reflect.get(target, key)) }) as Database;
      const logs = captureLogs();
      const paused = new PausedQueues({ database: flaky, logger: pino({ level: 'info' }, logs.destination), pollMs: 20 });
      await paused.start();
      expect(paused.isPaused(QUEUE)).toBe(true);
      down = true;
      await waitFor(() => logs.lines.length >= 2, 1_000, 'the failure to be logged');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(paused.isPaused(QUEUE)).toBe(true);
      const errors = logs.records().filter((r) => r.level === 50);
      expect(errors.map((r) => r.msg)).toEqual(['could not read the paused queues; the workers keep the last known state until they can']);
      await container.queuePauses.resume(QUEUE);
      down = false;
      await waitFor(() => !paused.isPaused(QUEUE), 1_000, 'the resume once readable');
      paused.stop();
      expect(logs.records().map((r) => r.msg)).toContain('the paused queues can be read again');
    });
  });

  describe('WorkerHeartbeat and WorkerProcesses', () => {
    const heartbeat = (running: RunningJobs, everyMs = 2_000) =>
      new WorkerHeartbeat({ database: container.database, clock, logger: pino({ level: 'silent' }), everyMs, role: 'worker', version: '9.9.9', queues: [{ queue: QUEUE, concurrency: 32 }], running });

    it('writes the process with what it runs now, shows it alive for three heartbeats, and deletes it on stop', async () => {
      const running = new RunningJobs(clock);
      const job = running.started({ queue: QUEUE, id: '42', attempt: 2 });
      const beating = heartbeat(running);
      await beating.start();
      const startedAt = clock.now();
      const [listed] = (await container.workerProcesses.list({ page: 1, perPage: 10 })).processes;
      expect(listed).toEqual({
        id: beating.id,
        role: 'worker',
        hostname: os.hostname(),
        pid: process.pid,
        version: '9.9.9',
        startedAt,
        lastSeenAt: startedAt,
        heartbeatMs: 2_000,
        alive: true,
        queues: [{ queue: QUEUE, concurrency: 32 }],
        running: [{ queue: QUEUE, id: '42', attempt: 2, startedAt }],
        runningCount: 1,
      });
      clock.advance(6_000);
      expect((await container.workerProcesses.list({ page: 1, perPage: 10 })).processes[0]!.alive).toBe(true);
      clock.advance(1);
      expect((await container.workerProcesses.list({ page: 1, perPage: 10 })).processes[0]!.alive).toBe(false);
      await beating.stop();
      expect((await container.workerProcesses.list({ page: 1, perPage: 10 })).total).toBe(0);
      running.finish(job);
    });

    it('beats again every interval with the jobs running then', async () => {
      const running = new RunningJobs(clock);
      const beating = heartbeat(running, 100);
      await beating.start();
      const first = running.started({ queue: QUEUE, id: '1', attempt: 1 });
      running.started({ queue: 'images.download', id: '2', attempt: 3 });
      running.finish(first);
      clock.advance(500);
      await waitFor(async () => (await container.workerProcesses.list({ page: 1, perPage: 1 })).processes[0]?.lastSeenAt === clock.now(), 2_000, 'a second beat');
      const [listed] = (await container.workerProcesses.list({ page: 1, perPage: 1 })).processes;
      expect(listed!.running).toEqual([{ queue: 'images.download', id: '2', attempt: 3, startedAt: clock.now() - 500 }]);
      await beating.stop();
    });

    it('lists the alive processes first, a page at a time, and the maintenance sweep forgets those gone for an hour', async () => {
      const gone = heartbeat(new RunningJobs(clock));
      await gone.start();
      await gone.stop();
      // A crashed process: its last beat stays behind.
      await gone.start();
      clock.advance(10 * 60_000);
      const alive = [heartbeat(new RunningJobs(clock)), heartbeat(new RunningJobs(clock))];
      for (const beating of alive) await beating.start();
      const page = await container.workerProcesses.list({ page: 1, perPage: 2 });
      expect(page.total).toBe(3);
      expect(page.processes.map((p) => p.alive)).toEqual([true, true]);
      const last = await container.workerProcesses.list({ page: 2, perPage: 2 });
      expect(last.processes.map((p) => [p.id, p.alive])).toEqual([[gone.id, false]]);

      clock.advance(51 * 60_000);
      expect(await sweep(container)).toMatchObject({ workerProcesses: 1 });
      for (const beating of alive) await beating.stop();
      // The crashed one never deletes its row itself.
      await gone.stop();
    });
  });
});
