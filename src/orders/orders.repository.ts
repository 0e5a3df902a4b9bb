import { sql } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import { BulkInsert } from '../platform/db/bulk-insert.js';
import { coalesced } from '../platform/db/coalesce.js';
import { executorDialect } from '../platform/db/executor-dialect.js';
import { param, prepareQuery } from '../platform/db/prepared-query.js';
import { insertedId, supportsReturning } from '../platform/db/returning.js';
import type { ItemStatus, NewOrderItemRow, NewOrderRow, OrderItemRow, OrderRow, OrdersTables } from './orders.tables.js';

const tables = tablesOf<OrdersTables>();

type NewOrder = Required<Omit<NewOrderRow, 'id' | 'finished_at'>>;
type NewOrderItem = Required<Omit<NewOrderItemRow, 'id'>>;

const insertOrderQuery = prepareQuery<NewOrder, OrderRow>((db) => {
  const insert = tables(db)
    .insertInto('orders')
    .values({
      user_id: param('user_id'),
      client_identity: param('client_identity'),
      client_contact_point: param('client_contact_point'),
      content_hash: param('content_hash'),
      created_at: param('created_at'),
      updated_at: param('updated_at'),
    });
  return supportsReturning(db) ? insert.returningAll() : insert;
});

const ORDER_COLUMNS = ['user_id', 'client_identity', 'client_contact_point', 'content_hash', 'created_at', 'updated_at'] as const;
const insertOrderRows = new BulkInsert<NewOrder, OrderRow>('orders', ORDER_COLUMNS, { returning: ['id', ...ORDER_COLUMNS], maxRows: 128 });

const ITEM_COLUMNS = ['order_id', 'position', 'label', 'kind', 'cost_cents', 'meta', 'priority', 'status', 'details', 'created_at', 'updated_at'] as const;
const insertItems = new BulkInsert<NewOrderItem, OrderItemRow>('order_items', ITEM_COLUMNS, { returning: ['id', ...ITEM_COLUMNS], reselectBy: ['order_id', 'position'], maxRows: 128 });

async function insertOneOrder(db: Executor, order: NewOrder): Promise<OrderRow> {
  const result = await insertOrderQuery.execute(db, order);
  return result.rows[0] ?? (await tables(db).selectFrom('orders').selectAll().where('id', '=', insertedId(result)).executeTakeFirstOrThrow());
}

/** The orders of a batch's interleaved transactions, in multi-row inserts where the engine returns what it inserted. */
async function insertOrders(db: Executor, orders: readonly NewOrder[]): Promise<OrderRow[]> {
  if (orders.length === 1 || !supportsReturning(db)) {
    // MySQL: the ids of a multi-row insert are consecutive only under innodb_autoinc_lock_mode <= 1,
    // so nothing would tie each new id to its order there.
    const stored: OrderRow[] = [];
    for (const order of orders) stored.push(await insertOneOrder(db, order));
    return stored;
  }
  // A serial id is drawn row by row, in the order of the VALUES (and the chunks run in turn), so
  // ascending ids are the input order.
  return (await insertOrderRows.insert(db, orders)).sort((a, b) => a.id - b.id);
}

/** The items of a batch's orders in multi-row inserts, each order's returned in position order. */
async function insertItemsOfOrders(db: Executor, itemsPerOrder: ReadonlyArray<readonly NewOrderItem[]>): Promise<OrderItemRow[][]> {
  const byOrder = new Map<number, OrderItemRow[]>();
  for (const row of await insertItems.insert(db, itemsPerOrder.flat())) {
    const items = byOrder.get(row.order_id);
    if (items) items.push(row);
    else byOrder.set(row.order_id, [row]);
  }
  return itemsPerOrder.map((items) => (items.length === 0 ? [] : (byOrder.get(items[0]!.order_id) ?? []).sort((a, b) => a.position - b.position)));
}

/** On every order; the orders of interleaved transactions go in together (platform/db/coalesce.ts). */
export const insertOrder: (db: Executor, order: NewOrder) => Promise<OrderRow> = coalesced(insertOrders);

/** Every item of an order, returned in position order; the items of interleaved transactions go in together. */
export const insertOrderItems: (db: Executor, items: NewOrderItem[]) => Promise<OrderItemRow[]> = coalesced(insertItemsOfOrders);

export function findOrderForUser(db: Executor, userId: number, orderId: number): Promise<OrderRow | undefined> {
  return tables(db).selectFrom('orders').selectAll().where('id', '=', orderId).where('user_id', '=', userId).executeTakeFirst();
}

/** The columns of the owners' table that operators see beside an order. */
interface OwnerTables {
  users: { id: number; name: string; email: string };
}
const withOwners = tablesOf<OrdersTables & OwnerTables>();

export type OrderWithOwnerRow = OrderRow & { user_name: string; user_email: string };

/** What operators narrow every user's orders to: the order holding one item. */
export interface OperatorOrderFilter {
  itemId?: number;
}

/** The newest orders of every user with their owner's name and email, for operators. */
export function listOrdersOfEveryone(db: Executor, limit: number, offset: number, filter: OperatorOrderFilter = {}): Promise<OrderWithOwnerRow[]> {
  let query = withOwners(db)
    .selectFrom('orders')
    .innerJoin('users', 'users.id', 'orders.user_id')
    .selectAll('orders')
    .select(['users.name as user_name', 'users.email as user_email']);
  if (filter.itemId !== undefined) query = query.where('orders.id', 'in', (eb) => eb.selectFrom('order_items').select('order_id').where('id', '=', filter.itemId!));
  return query.orderBy('orders.id', 'desc').limit(limit).offset(offset).execute();
}

export async function countAllOrders(db: Executor, filter: OperatorOrderFilter = {}): Promise<number> {
  let query = tables(db).selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('count'));
  if (filter.itemId !== undefined) query = query.where('id', 'in', (eb) => eb.selectFrom('order_items').select('order_id').where('id', '=', filter.itemId!));
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

export function listOrdersForUser(db: Executor, userId: number, limit: number, offset: number): Promise<OrderRow[]> {
  return tables(db).selectFrom('orders').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').limit(limit).offset(offset).execute();
}

export async function countOrdersForUser(db: Executor, userId: number): Promise<number> {
  const row = await tables(db).selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.count);
}

export function listItemsOfOrders(db: Executor, orderIds: number[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return Promise.resolve([]);
  return tables(db).selectFrom('order_items').selectAll().where('order_id', 'in', orderIds).orderBy('order_id').orderBy('position').execute();
}

/** The most recent order of `userId` with the same content since `since`, for the duplicate guard. */
export async function findRecentDuplicate(db: Executor, userId: number, contentHash: string, since: number): Promise<number | undefined> {
  const row = await tables(db)
    .selectFrom('orders')
    .select('id')
    .where('user_id', '=', userId)
    .where('content_hash', '=', contentHash)
    .where('created_at', '>=', since)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.id;
}

export interface ItemForDispatch {
  id: number;
  label: string;
  cost_cents: number;
  order_created_at: number;
}

/**
 * Marks the item `processing` unless it is completed, and returns what the third party is sent;
 * undefined when there is nothing to send.
 */
export async function startItemDispatch(db: Executor, itemId: number, now: number): Promise<ItemForDispatch | undefined> {
  return (await startItemsDispatch(db, [itemId], now))[0];
}

/**
 * `startItemDispatch` for many items: one statement where the engine has RETURNING. Returns the
 * items that are to be sent, in no particular order.
 */
export async function startItemsDispatch(db: Executor, itemIds: readonly number[], now: number): Promise<ItemForDispatch[]> {
  if (itemIds.length === 0) return [];
  const ids = [...new Set(itemIds)];
  if (!supportsReturning(db)) {
    const items = await tables(db)
      .selectFrom('order_items')
      .innerJoin('orders', 'orders.id', 'order_items.order_id')
      .select(['order_items.id', 'order_items.label', 'order_items.cost_cents', 'orders.created_at as order_created_at'])
      .where('order_items.id', 'in', ids)
      .where('order_items.status', '!=', 'completed')
      .execute();
    if (items.length > 0) await markItemsProcessing(db, items.map((item) => item.id), now);
    return items.map(toDispatch);
  }
  const rows = await tables(db)
    .updateTable('order_items')
    .set({ status: 'processing', updated_at: now })
    .where('id', 'in', ids)
    .where('status', '!=', 'completed')
    .returning((eb) => ['id', 'label', 'cost_cents', eb.selectFrom('orders').select('orders.created_at').whereRef('orders.id', '=', 'order_items.order_id').as('order_created_at')])
    .execute();
  return rows.map(toDispatch);
}

function toDispatch(row: { id: number; label: string; cost_cents: number; order_created_at: unknown }): ItemForDispatch {
  return { id: Number(row.id), label: row.label, cost_cents: Number(row.cost_cents), order_created_at: Number(row.order_created_at) };
}

async function markItemsProcessing(db: Executor, ids: number[], now: number): Promise<void> {
  await tables(db).updateTable('order_items').set({ status: 'processing', updated_at: now }).where('id', 'in', ids).where('status', '!=', 'completed').execute();
}

/** Moves an item to `status` unless it is already completed: a completed item never changes again. */
export async function updateItemStatus(db: Executor, itemId: number, status: ItemStatus, details: string | undefined, now: number): Promise<boolean> {
  const result = await tables(db)
    .updateTable('order_items')
    .set(details === undefined ? { status, updated_at: now } : { status, details, updated_at: now })
    .where('id', '=', itemId)
    .where('status', '!=', 'completed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface ItemStatusChange {
  itemId: number;
  status: ItemStatus;
  /** JSON of the third-party outcome. */
  details: string;
}

/**
 * `updateItemStatus` for many items in one statement (each item's status and details picked by a
 * CASE on its id). An item must appear at most once.
 */
export async function updateItemsStatus(db: Executor, changes: readonly ItemStatusChange[], now: number): Promise<void> {
  if (changes.length === 0) return;
  if (changes.length === 1) {
    const [change] = changes;
    await updateItemStatus(db, change!.itemId, change!.status, change!.details, now);
    return;
  }
  const byId = <T extends string>(column: 'status' | 'details', value: (change: ItemStatusChange) => T) =>
    sql<T>`case ${sql.ref('id')} ${sql.join(
      changes.map((change) => sql`when ${change.itemId} then ${value(change)}`),
      sql` `,
    )} else ${sql.ref(column)} end`;
  await tables(db)
    .updateTable('order_items')
    .set({ status: byId('status', (c) => c.status), details: byId('details', (c) => c.details), updated_at: now })
    .where('id', 'in', changes.map((change) => change.itemId))
    .where('status', '!=', 'completed')
    .execute();
}

/**
 * The orders of these items and every item of those orders, as last committed, locked until the
 * transaction ends (SQLite's writer is alone anyway), in order and item order so that two writers
 * never wait on each other in a cycle. Whoever holds the locks sees every outcome committed before
 * it: two items of an order finishing at once on two workers are seen in turn, and exactly one of
 * them sees the order finished. (A locking read, too, because MySQL's plain reads may see an
 * older snapshot.) One statement.
 */
export async function lockOrdersOfItems(db: Executor, itemIds: readonly number[]): Promise<{ orders: OrderRow[]; items: OrderItemRow[] }> {
  if (itemIds.length === 0) return { orders: [], items: [] };
  const query = tables(db)
    .selectFrom('order_items')
    .innerJoin('orders', 'orders.id', 'order_items.order_id')
    .selectAll('order_items')
    .select([
      'orders.user_id as order_user_id',
      'orders.client_identity as order_client_identity',
      'orders.client_contact_point as order_client_contact_point',
      'orders.content_hash as order_content_hash',
      'orders.created_at as order_created_at',
      'orders.updated_at as order_updated_at',
      'orders.finished_at as order_finished_at',
    ])
    .where('order_items.order_id', 'in', (eb) => eb.selectFrom('order_items as asked').select('asked.order_id').where('asked.id', 'in', [...new Set(itemIds)]))
    .orderBy('order_items.order_id')
    .orderBy('order_items.position');
  const rows = executorDialect(db) === 'sqlite' ? await query.execute() : await query.forUpdate().execute();
  const orders = new Map<number, OrderRow>();
  const items: OrderItemRow[] = [];
  for (const { order_user_id, order_client_identity, order_client_contact_point, order_content_hash, order_created_at, order_updated_at, order_finished_at, ...item } of rows) {
    items.push(item);
    if (!orders.has(item.order_id)) {
      orders.set(item.order_id, {
        id: item.order_id,
        user_id: order_user_id,
        client_identity: order_client_identity,
        client_contact_point: order_client_contact_point,
        content_hash: order_content_hash,
        created_at: order_created_at,
        updated_at: order_updated_at,
        finished_at: order_finished_at,
      });
    }
  }
  return { orders: [...orders.values()], items };
}

/** Marks orders finished (their last recurring item reached an outcome), once. */
export async function markOrdersFinished(db: Executor, orderIds: readonly number[], now: number): Promise<void> {
  if (orderIds.length === 0) return;
  await tables(db).updateTable('orders').set({ finished_at: now }).where('id', 'in', [...orderIds]).where('finished_at', 'is', null).execute();
}
