import fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/app/container.js';
import { sweep } from '../../src/app/maintenance.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import { createLogger } from '../../src/platform/telemetry/logger.js';
import { sweepWebhookLog } from '../../src/webhooks/webhook-retention.js';
import type { WebhooksTables } from '../../src/webhooks/webhooks.tables.js';
import { testConfig } from '../support/app.js';
import { manualClock } from '../support/driver-clock.js';
import { captureLogs } from '../support/log-capture.js';
import { seedDeliveries, seedEndpoint, seedEvent, seedUser } from './operator-fixtures.js';

const DAY = 86_400_000;
const LOG_DAYS = 14;
const tables = tablesOf<WebhooksTables>();

describe('webhook log retention', () => {
  let container: Container;
  const clock = manualClock(Date.UTC(2026, 11, 4, 12, 0, 0));
  const logs = captureLogs();
  let user: number;
  let endpoints: number[];

  beforeAll(async () => {
    const logger = createLogger({ level: 'info', role: 'scheduler', destination: logs.destination });
    container = await createContainer(await testConfig({ WEBHOOK_LOG_DAYS: String(LOG_DAYS) }), { logger, clock });
  });
  afterAll(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    const db = container.database.db;
    await tables(db).deleteFrom('webhook_deliveries').execute();
    await tables(db).deleteFrom('webhook_events').execute();
    await tables(db).deleteFrom('webhook_endpoints').execute();
    user = (await seedUser(db, 'dave', clock.now())).id;
    endpoints = [await seedEndpoint(db, user, clock.now()), await seedEndpoint(db, user, clock.now())];
    logs.lines.length = 0;
  });

  const remaining = async () => {
    const db = container.database.db;
    const deliveries = await tables(db).selectFrom('webhook_deliveries').select(['status', 'created_at']).execute();
    const events = await tables(db).selectFrom('webhook_events').select('created_at').execute();
    return { deliveries: deliveries.map((d) => [d.status, Number(d.created_at)]), events: events.map((e) => Number(e.created_at)) };
  };

  it('deletes deliveries of every status, then events, created more than WEBHOOK_LOG_DAYS ago, and keeps younger ones', async () => {
    const db = container.database.db;
    const now = clock.now();
    const old = now - LOG_DAYS * DAY - 1;
    const young = now - LOG_DAYS * DAY + 60_000;
    await seedDeliveries(db, endpoints[0]!, user, 3, { status: 'succeeded', createdAt: old });
    await seedDeliveries(db, endpoints[0]!, user, 2, { status: 'failed', createdAt: old });
    // Still pending after the whole retry schedule ran out of time: swept all the same.
    await seedDeliveries(db, endpoints[1]!, user, 1, { status: 'pending', attempts: 7, createdAt: old, updatedAt: now - DAY });
    // An event no endpoint subscribed to.
    await seedEvent(db, user, old);
    await seedDeliveries(db, endpoints[0]!, user, 2, { status: 'failed', createdAt: young });
    await seedDeliveries(db, endpoints[1]!, user, 1, { status: 'pending', createdAt: young });
    await seedEvent(db, user, young);

    expect(await sweepWebhookLog(container.database, now, LOG_DAYS, { batch: 4 })).toEqual({ deliveries: 6, events: 7, more: false });
    const left = await remaining();
    expect(left.deliveries.sort()).toEqual([
      ['failed', young],
      ['failed', young],
      ['pending', young],
    ]);
    expect(left.events).toEqual([young, young, young, young]);
    expect(await sweepWebhookLog(container.database, now, LOG_DAYS)).toEqual({ deliveries: 0, events: 0, more: false });
  });

  it('stops after its bound of statements and leaves the rest, events included, to the next sweep', async () => {
    const db = container.database.db;
    const now = clock.now();
    await seedDeliveries(db, endpoints[0]!, user, 25, { status: 'succeeded', createdAt: now - 20 * DAY });

    const first = await sweepWebhookLog(container.database, now, LOG_DAYS, { batch: 10, maxBatches: 2 });
    expect(first).toEqual({ deliveries: 20, events: 0, more: true });
    expect((await remaining()).deliveries).toHaveLength(5);
    expect((await remaining()).events).toHaveLength(25);

    const second = await sweepWebhookLog(container.database, now, LOG_DAYS, { batch: 10, maxBatches: 2 });
    expect(second).toEqual({ deliveries: 5, events: 20, more: true });
    expect(await sweepWebhookLog(container.database, now, LOG_DAYS, { batch: 10, maxBatches: 2 })).toEqual({ deliveries: 0, events: 5, more: false });
    expect(await remaining()).toEqual({ deliveries: [], events: [] });
  });

  it('runs in the maintenance sweep and says what it deleted in one log line', async () => {
    const db = container.database.db;
    const now = clock.now();
    await seedDeliveries(db, endpoints[0]!, user, 3, { status: 'failed', createdAt: now - 15 * DAY });
    await seedDeliveries(db, endpoints[1]!, user, 1, { status: 'succeeded', createdAt: now - DAY });

    expect(await sweep(container)).toMatchObject({ webhookDeliveries: 3, webhookEvents: 3 });
    const lines = logs.records().filter((r) => r.msg === 'swept webhook deliveries and events older than WEBHOOK_LOG_DAYS');
    expect(lines).toEqual([expect.objectContaining({ level: 30, deliveries: 3, events: 3, logDays: LOG_DAYS, more: false })]);
    expect((await remaining()).deliveries).toEqual([['succeeded', now - DAY]]);

    // Nothing left to sweep: no line.
    logs.lines.length = 0;
    expect(await sweep(container)).toMatchObject({ webhookDeliveries: 0, webhookEvents: 0 });
    expect(logs.records().filter((r) => String(r.msg).startsWith('swept webhook'))).toEqual([]);
  });

  it('deletes nothing while another instance holds the maintenance lock', async () => {
    await seedDeliveries(container.database.db, endpoints[0]!, user, 2, { status: 'failed', createdAt: clock.now() - 30 * DAY });
    await container.store.setIfAbsent('lock:maintenance', 'someone-else', 60_000);
    try {
      expect(await sweep(container)).toMatchObject({ webhookDeliveries: 0, webhookEvents: 0 });
      expect((await remaining()).deliveries).toHaveLength(2);
    } finally {
      await container.store.delete('lock:maintenance');
    }
  });
});
