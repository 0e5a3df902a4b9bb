import type { Executor } from '../platform/db/database.js';
import { BulkInsert } from '../platform/db/bulk-insert.js';
import { tablesOf } from '../platform/db/tables.js';
import type { WebhookDeliveriesTable, WebhookEventsTable, WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

type NewEventRow = Omit<WebhookEventsTable, 'seq'>;
type NewDeliveryRow = Pick<WebhookDeliveriesTable, 'message_id' | 'endpoint_id' | 'event_id' | 'status' | 'next_attempt_at' | 'created_at' | 'updated_at'>;

const insertEventRows = new BulkInsert<NewEventRow>('webhook_events', ['id', 'user_id', 'type', 'body', 'created_at'], { maxRows: 64 });
const insertDeliveryRows = new BulkInsert<NewDeliveryRow>('webhook_deliveries', ['message_id', 'endpoint_id', 'event_id', 'status', 'next_attempt_at', 'created_at', 'updated_at'], { maxRows: 128 });

export function insertEvents(db: Executor, rows: readonly NewEventRow[]): Promise<unknown> {
  return insertEventRows.insert(db, rows);
}

export function insertDeliveries(db: Executor, rows: readonly NewDeliveryRow[]): Promise<unknown> {
  return insertDeliveryRows.insert(db, rows);
}

export interface SubscribedEndpoint {
  id: number;
  user_id: number;
  /** JSON array of event types. */
  events: string;
}

/** The enabled endpoints of these users, with the events each subscribes to. */
export function enabledEndpointsOf(db: Executor, userIds: readonly number[]): Promise<SubscribedEndpoint[]> {
  if (userIds.length === 0) return Promise.resolve([]);
  return tables(db)
    .selectFrom('webhook_endpoints')
    .select(['id', 'user_id', 'events'])
    .where('user_id', 'in', [...new Set(userIds)])
    .where('enabled', '=', 1)
    .execute();
}
