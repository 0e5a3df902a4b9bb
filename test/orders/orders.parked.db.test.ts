import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/auth/users.repository.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { orderParkedHandler, type ItemDetails } from '../../src/orders/orders.integration.js';
import { updateItemStatus } from '../../src/orders/orders.repository.js';
import { testConfig } from '../support/app.js';
import { createOrderAsApi } from '../support/orders.js';

describe('an item whose job is parked', () => {
  let container: Container;
  let itemId: number;

  beforeEach(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }) });
    const user = await insertUser(container.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const created = await createOrderAsApi(container.orders, {
      principal: { userId: user.id, tokenId: 0, abilities: ['orders'] },
      body: { client: { identity: 'A', contact_point: 'B' }, contents: [{ label: 'Plan', kind: 'recurring', cost: 1 }] },
    });
    itemId = (JSON.parse(created.body) as { order: { contents: Array<{ id: number }> } }).order.contents[0]!.id;
  });
  afterEach(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  const item = async () => {
    const row = await container.database.db.selectFrom('order_items').select(['status', 'details']).where('id', '=', itemId).executeTakeFirstOrThrow();
    return { status: row.status as string, details: row.details === null ? null : (JSON.parse(row.details as string) as ItemDetails) };
  };
  const notice = { id: '1', queue: 'orders.integration', attempts: 5, maxAttempts: 5, reason: 'lease expired: the worker stopped during the last attempt' };

  it('becomes failed with the attempts and the reason when its worker died on the last attempt', async () => {
    await container.database.write((db) => updateItemStatus(db, itemId, 'processing', undefined, Date.now()));
    await orderParkedHandler({ database: container.database, clock: container.clock, logger: container.logger })({ itemId }, notice);
    expect(await item()).toEqual({ status: 'failed', details: { status_code: null, attempts: 5, duration_ms: 0, last_error: notice.reason } });
  });

  it('keeps a completed item completed with its details', async () => {
    const handler = orderParkedHandler({ database: container.database, clock: container.clock, logger: container.logger });
    const completed: ItemDetails = { status_code: 201, attempts: 2, duration_ms: 10, last_error: null };
    await container.database.write((db) => updateItemStatus(db, itemId, 'completed', JSON.stringify(completed), Date.now()));
    await handler({ itemId }, notice);
    expect(await item()).toEqual({ status: 'completed', details: completed });
  });

  it('ignores a payload without an item id', async () => {
    await orderParkedHandler({ database: container.database, clock: container.clock, logger: container.logger })({ nothing: true }, notice);
    expect((await item()).status).toBe('received');
  });
});
