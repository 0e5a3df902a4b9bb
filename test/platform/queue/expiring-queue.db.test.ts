import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../../src/app/container.js';
import { EXPIRES_AT_HEADER } from '../../../src/platform/queue/expiring-queue.js';
import type { ParkedNotice, Worker } from '../../../src/platform/queue/queue.js';
import { testConfig } from '../../support/app.js';
import { manualClock } from '../../support/driver-clock.js';
import { testDialect } from '../../support/driver-databases.js';
import { waitFor } from '../../support/driver-wait.js';

const QUEUE = 'test.expiry';

describe(`job expiry on the database queue (${testDialect()})`, () => {
  let container: Container | undefined;
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(1_000);
    await container?.close();
    if (container) fs.rmSync(container.config.dataDir, { recursive: true, force: true });
    container = worker = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    const clock = manualClock(Date.now());
    container = await createContainer(await testConfig(env), { logger: pino({ level: 'silent' }), clock });
    const ran: unknown[] = [];
    const parked: ParkedNotice[] = [];
    const work = () => {
      worker = container!.queue.work(QUEUE, async (payload) => void ran.push(payload), { concurrency: 2, onParked: async (_payload, notice) => void parked.push(notice) });
    };
    return { clock, queue: container.queue, ran, parked, work };
  }

  it('parks a job that has not started by its expiresAt as expired, and runs one that has', async () => {
    const { clock, queue, ran, parked, work } = await start();
    await queue.enqueue(QUEUE, { n: 'late' }, { expiresAt: clock.now() + 1_000 });
    await queue.enqueue(QUEUE, { n: 'timely' }, { expiresAt: clock.now() + 60_000 });
    await queue.enqueue(QUEUE, { n: 'no deadline' });
    clock.advance(2_000);
    work();
    await waitFor(() => ran.length === 2 && parked.length === 1, 10_000, 'two runs and one parked job');
    expect(ran).toEqual(expect.arrayContaining([{ n: 'timely' }, { n: 'no deadline' }]));
    expect(parked[0]!.reason).toMatch(/^expired: not started before its deadline, \d{4}-\d{2}-\d{2}T/);
    expect(parked[0]!.attempts).toBe(1);
    const [job] = await queue.parked(QUEUE);
    expect(job).toMatchObject({ payload: { n: 'late' }, lastError: parked[0]!.reason });
  });

  it('gives every job of a queue named in JOB_TTL a deadline after its delay, and carries it in a header', async () => {
    const { clock, queue, ran, parked, work } = await start({ JOB_TTL: `${QUEUE}=60,other.queue=5` });
    await queue.enqueue(QUEUE, { n: 'waited too long' });
    await queue.enqueue(QUEUE, { n: 'delayed, then run' }, { delayMs: 61_000 });
    clock.advance(61_001);
    work();
    await waitFor(() => ran.length === 1 && parked.length === 1, 10_000, 'one run and one parked job');
    expect(ran).toEqual([{ n: 'delayed, then run' }]);
    const rows = await container!.database.db.selectFrom('jobs').select('headers').execute();
    expect(JSON.parse(rows[0]!.headers as string)).toHaveProperty(EXPIRES_AT_HEADER);
  });
});
