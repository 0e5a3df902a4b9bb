import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/app/container.js';
import { insertUser } from '../../src/auth/users.repository.js';
import { applyItemOutcomes, type ItemOutcome } from '../../src/orders/item-outcomes.js';
import type { OrderEventSink } from '../../src/orders/order-events.js';
import type { Config } from '../../src/config.js';
import { testConfig } from '../support/app.js';
import { createOrderAsApi } from '../support/orders.js';

interface StoredEvent {
  id: string;
  type: string;
  user_id: number;
  body: { type: string; timestamp: string; data: Record<string, unknown> & { id: number } };
}

const containers: Container[] = [];
let config: Config | undefined;
afterEach(async () => {
  for (const container of containers.splice(0)) await container.close();
  if (config) fs.rmSync(config.dataDir, { recursive: true, force: true });
  config = undefined;
});

async function open(): Promise<Container> {
  config ??= await testConfig({ DUPLICATE_WINDOW_SECONDS: '0' });
  // A second container on the same database is a second worker process: its own connections, its own transactions.
  const container = await createContainer(containers.length === 0 ? config : { ...config, migrateOnStart: false }, { logger: pino({ level: 'silent' }) });
  containers.push(container);
  return container;
}

const sinkOf = (container: Container): OrderEventSink => (db, events) => container.webhookEvents.publish(db, events);

async function newOrder(container: Container, userId: number, kinds: Array<'single' | 'recurring'>): Promise<{ orderId: number; itemIds: number[] }> {
  const contents = kinds.map((kind, i) => ({ label: `item ${i}`, kind, cost: 10 + i, meta: { priority: 'high' } }));
  const created = await createOrderAsApi(container.orders, { principal: { userId, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: 'A', contact_point: 'B' }, contents } });
  const order = (JSON.parse(created.body) as { order: { id: number; contents: Array<{ id: number; kind: string }> } }).order;
  return { orderId: order.id, itemIds: order.contents.filter((c) => c.kind === 'recurring').map((c) => c.id) };
}

async function storedEvents(container: Container): Promise<StoredEvent[]> {
  const rows = await container.database.db.selectFrom('webhook_events' as never).select(['id', 'type', 'user_id', 'body'] as never[]).orderBy('seq' as never).execute();
  return (rows as Array<{ id: string; type: string; user_id: number; body: string }>).map((row) => ({ ...row, user_id: Number(row.user_id), body: JSON.parse(row.body) as StoredEvent['body'] }));
}

const outcome = (itemId: number, status: 'completed' | 'failed' | 'processing', extra: Partial<ItemOutcome> = {}): ItemOutcome => ({
  itemId,
  status,
  details: JSON.stringify({ status_code: status === 'completed' ? 200 : 503, attempts: 1, duration_ms: 5, last_error: status === 'completed' ? null : 'third party answered 503' }),
  ...extra,
});

describe('order events, written with the item outcomes that cause them', () => {
  it("sends an event per recurring item's outcome and one order.completed, each showing what GET /api/orders/{id} shows", async () => {
    const container = await open();
    const user = await insertUser(container.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const { orderId, itemIds } = await newOrder(container, user.id, ['recurring', 'single', 'recurring']);
    const principal = { userId: user.id, tokenId: 0, abilities: ['orders'] };
    const write = (outcomes: ItemOutcome[]) => container.database.transaction((db) => applyItemOutcomes(db, outcomes, Date.now(), sinkOf(container)));

    await write([outcome(itemIds[0]!, 'processing')]);
    expect(await storedEvents(container)).toEqual([]);

    await write([outcome(itemIds[0]!, 'completed', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })]);
    let events = await storedEvents(container);
    expect(events.map((e) => e.type)).toEqual(['order.item.completed']);
    const afterFirst = await container.orders.get(principal, orderId);
    expect(events[0]!.body.data).toEqual({ ...afterFirst.contents[0], order_id: orderId });
    expect(events[0]!.user_id).toBe(user.id);
    expect(events[0]!.id).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(new Date(events[0]!.body.timestamp).toISOString()).toBe(events[0]!.body.timestamp);

    await write([outcome(itemIds[1]!, 'failed')]);
    events = await storedEvents(container);
    expect(events.map((e) => e.type)).toEqual(['order.item.completed', 'order.item.failed', 'order.completed']);
    const finished = await container.orders.get(principal, orderId);
    expect(events[2]!.body.data).toEqual(finished);
    expect(finished.contents.map((c) => c.status)).toEqual(['completed', 'completed', 'failed']);

    // A completed item never changes, and a finished order is never completed twice.
    await write([outcome(itemIds[0]!, 'failed'), outcome(itemIds[1]!, 'completed')]);
    events = await storedEvents(container);
    expect(events.map((e) => e.type)).toEqual(['order.item.completed', 'order.item.failed', 'order.completed', 'order.item.completed']);
  });

  it('sends nothing for an order of single items, and a parked job fails only an unfinished item', async () => {
    const container = await open();
    const user = await insertUser(container.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    await newOrder(container, user.id, ['single', 'single']);
    const { itemIds } = await newOrder(container, user.id, ['recurring']);
    const write = (outcomes: ItemOutcome[]) => container.database.transaction((db) => applyItemOutcomes(db, outcomes, Date.now(), sinkOf(container)));

    await write([outcome(itemIds[0]!, 'failed')]);
    expect((await storedEvents(container)).map((e) => e.type)).toEqual(['order.item.failed', 'order.completed']);
    // The parked job's notice after the handler already wrote the failure: no change, no event.
    expect(await write([outcome(itemIds[0]!, 'failed', { onlyIfUnfinished: true, details: '{"last_error":"parked"}' })])).toBe(0);
    expect(await storedEvents(container)).toHaveLength(2);
  });

  it('sends order.completed exactly once when the last two items finish at the same moment on two workers', async () => {
    const first = await open();
    const second = await open();
    const user = await insertUser(first.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const orders = [];
    for (let i = 0; i < 25; i++) orders.push(await newOrder(first, user.id, ['recurring', 'recurring']));

    await Promise.all(
      orders.map(({ itemIds }, i) =>
        Promise.all([
          first.database.transaction((db) => applyItemOutcomes(db, [outcome(itemIds[0]!, i % 2 === 0 ? 'completed' : 'failed')], Date.now(), sinkOf(first))),
          second.database.transaction((db) => applyItemOutcomes(db, [outcome(itemIds[1]!, 'completed')], Date.now(), sinkOf(second))),
        ]),
      ),
    );

    const events = await storedEvents(first);
    const completed = events.filter((e) => e.type === 'order.completed').map((e) => e.body.data.id);
    expect(completed.sort((a, b) => a - b)).toEqual(orders.map((o) => o.orderId).sort((a, b) => a - b));
    expect(events.filter((e) => e.type !== 'order.completed')).toHaveLength(50);
    // Each order.completed shows both outcomes: it was written by whichever worker saw the other's.
    for (const event of events.filter((e) => e.type === 'order.completed')) {
      expect((event.body.data as unknown as { contents: Array<{ status: string }> }).contents.map((c) => c.status)).not.toContain('processing');
      expect((event.body.data as unknown as { contents: Array<{ status: string }> }).contents.map((c) => c.status)).not.toContain('received');
    }
  });
});
