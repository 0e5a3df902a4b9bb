import { afterEach, describe, expect, it } from 'vitest';
import { ReadReplica } from '../../../src/platform/db/read-replica.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import type { Executor } from '../../../src/platform/db/database.js';
import { createTestApp, orderBody, type TestApp } from '../../support/app.js';
import { createEmptyDatabase, createTempDatabase, SERVICE_OF, type TempDatabase } from '../../support/driver-databases.js';
import { captureLogs } from '../../support/log-capture.js';
import { describeWithServices } from '../../support/services.js';

describe('ReadReplica', () => {
  const replica = {} as Executor;
  const primary = {} as Executor;
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });

  it('falls back to the primary when the replica is unreachable, leaves it alone for a while, then tries it again', async () => {
    let now = 1_000;
    let replicaUp = false;
    const used: string[] = [];
    const reads = new ReadReplica(replica, primary, undefined, 5_000, () => now);
    const read = () =>
      reads.read(async (db) => {
        if (db === replica && !replicaUp) throw refused;
        used.push(db === replica ? 'replica' : 'primary');
      });

    await read();
    expect(used).toEqual(['primary']);
    expect(reads.status()).toEqual({ configured: true, healthy: false, fallbacks: 1 });
    replicaUp = true;
    now += 4_999;
    await read();
    expect(used).toEqual(['primary', 'primary']);
    now += 1;
    await read();
    expect(used).toEqual(['primary', 'primary', 'replica']);
    expect(reads.status()).toEqual({ configured: true, healthy: true, fallbacks: 2 });
  });

  it('passes on an error that is not about the connection, without falling back', async () => {
    const reads = new ReadReplica(replica, primary, undefined);
    await expect(reads.read(async () => Promise.reject(Object.assign(new Error('syntax error'), { code: '42601' })))).rejects.toThrow('syntax error');
    expect(reads.status().fallbacks).toBe(0);
  });
});

for (const dialect of ['postgres', 'mysql'] as const) {
  await describeWithServices([SERVICE_OF[dialect]], `DATABASE_READ_URL on ${dialect}`, () => {
    let t: TestApp | undefined;
    let replica: TempDatabase | undefined;
    afterEach(async () => {
      await t?.close();
      await replica?.cleanup();
      t = undefined;
      replica = undefined;
    });

    it('serves listings from the replica, and a read after a write, and everything in a transaction, from the primary', async () => {
      replica = await createTempDatabase('intake-replica', dialect);
      const primary = await createEmptyDatabase(dialect);
      t = await createTestApp({ env: { DATABASE_URL: primary.url, DATABASE_READ_URL: replica.url } });
      const user = await t.user();

      const created = await t.postOrder(user, orderBody());
      expect(created.statusCode).toBe(201);
      const orderId = (created.json() as { order: { id: number } }).order.id;
      // The replica has not seen the order (no replication here): the list comes from it, the order itself from the primary.
      expect((await t.inject({ method: 'GET', url: '/api/orders', headers: user.auth })).json()).toMatchObject({ data: [], meta: { total: 0 } });
      expect((await t.inject({ method: 'GET', url: `/api/orders/${orderId}`, headers: user.auth })).statusCode).toBe(200);

      const now = Date.now();
      await replica.database.db
        .insertInto('pornstars')
        .values({ external_id: 'only-on-replica', name: 'Replica Star', link: null, license: 'REGULAR', wl_status: 0, created_at: now, updated_at: now })
        .execute();
      const listed = (await t.inject({ method: 'GET', url: '/api/v1/pornstars' })).json() as { data: Array<{ id: number; name: string }> };
      expect(listed.data.map((p) => p.name)).toEqual(['Replica Star']);
      expect((await t.inject({ method: 'GET', url: `/api/v1/pornstars/${listed.data[0]!.id}` })).statusCode).toBe(404);
      expect(t.container.database.replicaStatus()).toEqual({ configured: true, healthy: true, fallbacks: 0 });
    });

    it('reads from the primary when the replica is down, and says so in the log and the status', async () => {
      const primary = await createEmptyDatabase(dialect);
      const dead = new URL(primary.url);
      dead.port = '1';
      const logs = captureLogs();
      t = await createTestApp({ env: { DATABASE_URL: primary.url, DATABASE_READ_URL: dead.toString() }, logger: createLogger({ level: 'info', role: 'api', destination: logs.destination }) });
      const user = await t.user();
      expect((await t.postOrder(user, orderBody())).statusCode).toBe(201);

      const listed = await t.inject({ method: 'GET', url: '/api/orders', headers: user.auth });
      expect(listed.statusCode).toBe(200);
      expect(listed.json()).toMatchObject({ meta: { total: 1 } });
      expect(t.container.database.replicaStatus()).toMatchObject({ configured: true, healthy: false, fallbacks: 1 });
      expect(logs.records().some((line) => line.level === 40 && /read replica unreachable/.test(String(line.msg)))).toBe(true);
    });
  });
}
