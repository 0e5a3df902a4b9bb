import type { Static } from 'typebox';
import type { OrderOutput } from './orders.schemas.js';
import type { OrderItemRow, OrderRow } from './orders.tables.js';
import { priorityName } from './priority.js';

export type OrderView = Static<typeof OrderOutput>;

export type OrderItemView = OrderView['contents'][number];

export function presentItem(item: OrderItemRow): OrderItemView {
  return {
    id: item.id,
    label: item.label,
    kind: item.kind,
    cost: item.cost_cents / 100,
    meta: JSON.parse(item.meta) as Record<string, unknown>,
    priority: priorityName(item.priority),
    status: item.status,
    details: item.details === null ? null : (JSON.parse(item.details) as OrderItemView['details']),
  };
}

/** `present`: how each item is shown, e.g. from views already made. */
export function presentOrder(order: OrderRow, items: OrderItemRow[], present: (item: OrderItemRow) => OrderItemView = presentItem): OrderView {
  return {
    id: order.id,
    client: { identity: order.client_identity, contact_point: order.client_contact_point },
    contents: items.map(present),
    created_at: new Date(order.created_at).toISOString(),
    updated_at: new Date(order.updated_at).toISOString(),
  };
}
