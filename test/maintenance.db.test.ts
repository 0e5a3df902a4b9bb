import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../src/app/container.js';
import { sweep } from '../src/app/maintenance.js';
import { insertIdempotencyRecord } from '../src/platform/idempotency/idempotency.repository.js';
import { closeCircuit, forceCircuit, listDestinations, openCircuit } from '../src/platform/outbound/destinations.repository.js';
import { insertJobAttempts } from '../src/platform/queue/job-attempts.repository.js';
import { testConfig } from './support/app.js';
import { manualClock } from './support/driver-clock.js';

describe('maintenance sweep', () => {
  let container: Container;
  const clock = manualClock();

  beforeEach(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }), clock });
  });
  afterEach(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  it('deletes expired keys and idempotency records in chunks, and keeps live ones', async () => {
    // More than two sweep chunks (5,000) of expired keys, written as the store writes them, 1,000 rows a
    // statement: 12,000 set() calls took most of the test's time on a server engine.
    const expiresAt = clock.now() + 1_000;
    for (let i = 0; i < 12_000; i += 1_000) {
      await container.database.db
        .insertInto('kv')
        .values(Array.from({ length: 1_000 }, (_, j) => ({ key: `expired:${i + j}`, value: 'x', expires_at: expiresAt })))
        .execute();
    }
    await container.store.set('live', 'x', 60_000);
    const record = { scope: 'user:1', fingerprint: 'f', status_code: 201, response_body: '{}', response_headers: '{}', created_at: clock.now() };
    await insertIdempotencyRecord(container.database.db, { ...record, key: 'old', expires_at: clock.now() + 1_000 });
    await insertIdempotencyRecord(container.database.db, { ...record, key: 'new', expires_at: clock.now() + 60_000 });
    clock.advance(2_000);

    expect(await sweep(container)).toEqual({ keys: 12_000, records: 1, webhookDeliveries: 0, webhookEvents: 0, destinations: 0, historyBuckets: 0, workerProcesses: 0, jobAttempts: 0, catalogChanges: 0 });
    expect(await container.store.get('live')).toBe('x');
    const keys = await container.database.db.selectFrom('idempotency_keys').select('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['new']);
  });

  it('deletes the circuits of destinations closed and untouched for a day, and keeps the open, forced and recent ones', async () => {
    const db = container.database.db;
    const now = clock.now();
    await openCircuit(db, 'webhook:1', 5_000, 'down', now);
    await closeCircuit(db, 'webhook:1', now, now);
    await openCircuit(db, 'webhook:2', 5_000, 'down', now);
    await forceCircuit(db, 'image-host:forced.test', 'closed', now);
    clock.advance(25 * 3_600_000);
    await openCircuit(db, 'webhook:3', 5_000, 'down', clock.now());
    await closeCircuit(db, 'webhook:3', clock.now(), clock.now());
    expect((await sweep(container)).destinations).toBe(1);
    expect((await listDestinations(db)).map((row) => row.destination)).toEqual(['image-host:forced.test', 'webhook:2', 'webhook:3']);
  });

  it('deletes one-minute history buckets after a day and five-minute ones after two weeks', async () => {
    const { history } = container;
    history.finished('orders.integration', 'completed', 10);
    await history.flush();
    clock.advance(25 * 3_600_000);
    history.finished('orders.integration', 'completed', 20);
    await history.flush();
    expect((await sweep(container)).historyBuckets).toBe(1);
    const day = await history.read('orders.integration', '24h');
    expect(day.buckets.reduce((sum, b) => sum + b.completed, 0)).toBe(1);
    expect((await history.read('orders.integration', '14d')).buckets.reduce((sum, b) => sum + b.completed, 0)).toBe(2);
    clock.advance(15 * 24 * 3_600_000);
    expect((await sweep(container)).historyBuckets).toBe(3);
  });

  it('deletes the job attempts older than JOB_ATTEMPT_LOG_HOURS (24 by default), and keeps the recent ones', async () => {
    const attempt = (jobId: string, startedAt: number) => ({ queue: 'orders.integration', job_id: jobId, attempt: 1, priority: 2, outcome: 'completed' as const, started_at: startedAt, duration_ms: 5, error: null, process: 'host:1', payload: '{}', headers: '{}', enqueued_at: startedAt });
    const now = clock.now();
    await insertJobAttempts(container.database.db, [attempt('day-old', now - 25 * 3_600_000), attempt('just-in', now - 23 * 3_600_000), attempt('recent', now - 60_000)]);
    expect((await sweep(container)).jobAttempts).toBe(1);
    const left = await container.database.db.selectFrom('job_attempts').select('job_id').orderBy('id').execute();
    expect(left.map((row) => row.job_id)).toEqual(['just-in', 'recent']);
  });

  it('skips the sweep while another instance holds the maintenance lock', async () => {
    await container.store.set('gone', 'x', 1);
    clock.advance(10);
    await container.store.setIfAbsent('lock:maintenance', 'someone-else', 60_000);
    expect(await sweep(container)).toEqual({ keys: 0, records: 0, webhookDeliveries: 0, webhookEvents: 0, destinations: 0, historyBuckets: 0, workerProcesses: 0, jobAttempts: 0, catalogChanges: 0 });
  });
});
