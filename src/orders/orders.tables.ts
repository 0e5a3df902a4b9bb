import type { Generated, Insertable, Selectable } from 'kysely';

export type ItemKind = 'single' | 'recurring';
export type ItemStatus = 'received' | 'processing' | 'completed' | 'failed';

export interface OrdersTable {
  id: Generated<number>;
  user_id: number;
  client_identity: string;
  client_contact_point: string;
  /** sha256 of the canonical client + contents, for the duplicate guard. */
  content_hash: string;
  created_at: number;
  updated_at: number;
  /** When the last recurring item reached an outcome (`order.completed` was sent); null until then, and for an order without recurring items. */
  finished_at: Generated<number | null>;
}

export interface OrderItemsTable {
  id: Generated<number>;
  order_id: number;
  position: number;
  label: string;
  kind: ItemKind;
  cost_cents: number;
  /** JSON object. */
  meta: string;
  priority: number;
  status: ItemStatus;
  /** JSON object of the third-party outcome, or null. */
  details: string | null;
  created_at: number;
  updated_at: number;
}

export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type OrderItemRow = Selectable<OrderItemsTable>;
export type NewOrderItemRow = Insertable<OrderItemsTable>;

export interface OrdersTables {
  orders: OrdersTable;
  order_items: OrderItemsTable;
}
