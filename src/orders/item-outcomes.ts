import type { Executor } from '../platform/db/database.js';
import type { OrderEvent, OrderEventSink } from './order-events.js';
import { presentItem, presentOrder, type OrderItemView } from './orders.presenter.js';
import { lockOrdersOfItems, markOrdersFinished, updateItemsStatus, type ItemStatusChange } from './orders.repository.js';
import type { ItemStatus, OrderItemRow } from './orders.tables.js';

export type ItemOutcome = ItemStatusChange & {
  /** Only an item still `received` or `processing` changes (a parked job's late word must not overwrite the outcome its handler wrote). */
  onlyIfUnfinished?: boolean;
  /** The trace of the job that reached the outcome; its events carry it. */
  traceparent?: string;
};

const isFinal = (status: ItemStatus) => status === 'completed' || status === 'failed';

/**
 * Writes item outcomes (an item may appear once) and, with `sink`, the events they cause, in the
 * caller's transaction: `order.item.completed` or `order.item.failed` for each item whose status
 * became that, and `order.completed` for each order whose last recurring item just reached an
 * outcome. The orders are locked first, so that of two transactions finishing an order's last two
 * items, the second sees the first's outcome, and `orders.finished_at` makes the event once-only.
 * Returns how many items changed.
 */
export async function applyItemOutcomes(db: Executor, outcomes: readonly ItemOutcome[], now: number, sink?: OrderEventSink): Promise<number> {
  if (!outcomes.some((outcome) => isFinal(outcome.status))) {
    // `processing` marks: no event can follow, and nothing needs the orders' locks.
    await updateItemsStatus(db, outcomes, now);
    return outcomes.length;
  }
  const locked = await lockOrdersOfItems(db, outcomes.map((o) => o.itemId));
  const orders = new Map(locked.orders.map((order) => [order.id, order]));
  const { items } = locked;
  const byId = new Map(items.map((item) => [item.id, item]));
  const itemsByOrder = new Map<number, OrderItemRow[]>();
  for (const item of items) {
    const ofOrder = itemsByOrder.get(item.order_id);
    if (ofOrder) ofOrder.push(item);
    else itemsByOrder.set(item.order_id, [item]);
  }

  const applied = outcomes.filter((outcome) => {
    const item = byId.get(outcome.itemId);
    return item !== undefined && item.status !== 'completed' && !(outcome.onlyIfUnfinished && isFinal(item.status));
  });
  await updateItemsStatus(db, applied, now);

  // Each item is shown once, in its own event and in its order's.
  const views = new Map<number, OrderItemView>();
  const viewOf = (item: OrderItemRow) => views.get(item.id) ?? views.set(item.id, presentItem(item)).get(item.id)!;
  const events: OrderEvent[] = [];
  const touchedOrders = new Map<number, string | undefined>();
  for (const outcome of applied) {
    const item = byId.get(outcome.itemId)!;
    const before = item.status;
    Object.assign(item, { status: outcome.status, details: outcome.details, updated_at: now });
    if (!isFinal(outcome.status) || before === outcome.status) continue;
    const order = orders.get(item.order_id)!;
    events.push({ type: outcome.status === 'completed' ? 'order.item.completed' : 'order.item.failed', userId: order.user_id, data: { ...viewOf(item), order_id: order.id }, traceparent: outcome.traceparent });
    touchedOrders.set(order.id, outcome.traceparent);
  }

  const finished: number[] = [];
  for (const [orderId, traceparent] of touchedOrders) {
    const order = orders.get(orderId)!;
    const itemsOfOrder = itemsByOrder.get(orderId) ?? [];
    if (order.finished_at !== null || !itemsOfOrder.every((item) => item.kind !== 'recurring' || isFinal(item.status))) continue;
    finished.push(orderId);
    events.push({ type: 'order.completed', userId: order.user_id, data: presentOrder(order, itemsOfOrder, viewOf), traceparent });
  }
  await markOrdersFinished(db, finished, now);
  if (sink && events.length > 0) await sink(db, events);
  return applied.length;
}

