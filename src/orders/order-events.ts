import type { Executor } from '../platform/db/database.js';
import type { OrderItemView, OrderView } from './orders.presenter.js';

/** What the order pipeline tells its owner's listeners: one item's outcome, or the last of an order's. */
export type OrderEvent =
  | { type: 'order.item.completed' | 'order.item.failed'; userId: number; data: OrderItemView & { order_id: number }; traceparent?: string }
  | { type: 'order.completed'; userId: number; data: OrderView; traceparent?: string };

/**
 * Records order events in the transaction of the status change that caused them, so that an
 * event exists if and only if its change commits. The app wires it to the webhooks.
 */
export type OrderEventSink = (db: Executor, events: OrderEvent[]) => Promise<void>;
