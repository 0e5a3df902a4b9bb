import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/app/container.js';
import { insertUser } from '../../src/auth/users.repository.js';
import { lockOrdersOfItems, updateItemsAndFinishOrders } from '../../src/orders/orders.repository.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../support/app.js';
import { createOrderAsApi } from '../support/orders.js';

let container: Container | undefined;
let config: Config | undefined;
afterEach(async () => {
  await container?.close();
  if (config) fs.rmSync(config.dataDir, { recursive: true, force: true });
  container = undefined;
  config = undefined;
});

async function orderOf(c: Container, userId: number, items: number): Promise<{ orderId: number; itemIds: number[] }> {
  const contents = Array.from({ length: items }, (_, i) => ({ label: `item ${i}`, kind: 'recurring', cost: 10 + i }));
  const created = await createOrderAsApi(c.orders, { principal: { userId, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: 'A', contact_point: 'B' }, contents } });
  const order = (JSON.parse(created.body) as { order: { id: number; contents: Array<{ id: number }> } }).order;
  return { orderId: order.id, itemIds: order.contents.map((item) => item.id) };
}

describe('updateItemsAndFinishOrders (one statement on PostgreSQL, two elsewhere)', () => {
  it("writes each item's own outcome and marks the finished orders, leaving a completed item and an order finished before as they were", async () => {
    config = await testConfig({ DUPLICATE_WINDOW_SECONDS: '0' });
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    const db = container.database.db;
    const user = await insertUser(db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const first = await orderOf(container, user.id, 2);
    const second = await orderOf(container, user.id, 1);
    const done = JSON.stringify({ status_code: 200 });
    await container.database.transaction((trx) => updateItemsAndFinishOrders(trx, [{ itemId: second.itemIds[0]!, status: 'completed', details: done }], [second.orderId], 1_000));

    await container.database.transaction((trx) =>
      updateItemsAndFinishOrders(
        trx,
        [
          { itemId: first.itemIds[0]!, status: 'completed', details: JSON.stringify({ status_code: 201 }) },
          { itemId: first.itemIds[1]!, status: 'failed', details: JSON.stringify({ status_code: 400 }) },
          { itemId: second.itemIds[0]!, status: 'failed', details: JSON.stringify({ status_code: 503 }) },
        ],
        [first.orderId, second.orderId],
        2_000,
      ),
    );

    const { orders, items } = await container.database.transaction((trx) => lockOrdersOfItems(trx, [...first.itemIds, ...second.itemIds]));
    const item = (id: number) => items.find((row) => row.id === id)!;
    expect([item(first.itemIds[0]!), item(first.itemIds[1]!)].map((row) => [row.status, JSON.parse(row.details!), Number(row.updated_at)])).toEqual([
      ['completed', { status_code: 201 }, 2_000],
      ['failed', { status_code: 400 }, 2_000],
    ]);
    expect([item(second.itemIds[0]!).status, JSON.parse(item(second.itemIds[0]!).details!), Number(item(second.itemIds[0]!).updated_at)]).toEqual(['completed', { status_code: 200 }, 1_000]);
    const finishedAt = (id: number) => Number(orders.find((order) => order.id === id)!.finished_at);
    expect([finishedAt(first.orderId), finishedAt(second.orderId)]).toEqual([2_000, 1_000]);
  });

  it('writes the items alone when no order finished, and finishes no order when no item changed', async () => {
    config = await testConfig({ DUPLICATE_WINDOW_SECONDS: '0' });
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    const db = container.database.db;
    const user = await insertUser(db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const order = await orderOf(container, user.id, 2);
    await container.database.transaction((trx) => updateItemsAndFinishOrders(trx, [{ itemId: order.itemIds[0]!, status: 'completed', details: '{}' }], [], 3_000));
    await container.database.transaction((trx) => updateItemsAndFinishOrders(trx, [], [order.orderId], 4_000));

    const { orders, items } = await container.database.transaction((trx) => lockOrdersOfItems(trx, order.itemIds));
    expect(items.map((row) => row.status)).toEqual(['completed', 'received']);
    expect(Number(orders[0]!.finished_at)).toBe(4_000);
  });
});
