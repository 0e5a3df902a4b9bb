import type { Executor } from '../platform/db/database.js';
import { BulkInsert } from '../platform/db/bulk-insert.js';
import { executorDialect } from '../platform/db/executor-dialect.js';
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

/** Events inserted in one CTE at most (five parameters each). */
const MAX_EVENTS_WITH_LOOKUP = 1_024;

/**
 * `insertEvents`, then `enabledEndpointsOf` their users: on PostgreSQL in one statement (the
 * insert as a data-modifying CTE), elsewhere in two. A round trip less for every batch of events.
 */
export async function insertEventsAndFindEndpoints(db: Executor, rows: readonly NewEventRow[]): Promise<SubscribedEndpoint[]> {
  const userIds = [...new Set(rows.map((row) => row.user_id))];
  if (executorDialect(db) !== 'postgres' || rows.length === 0 || rows.length > MAX_EVENTS_WITH_LOOKUP) {
    await insertEvents(db, rows);
    return enabledEndpointsOf(db, userIds);
  }
  return tables(db)
    .with('inserted', (cte) => cte.insertInto('webhook_events').values([...rows]))
    .selectFrom('webhook_endpoints')
    .select(['id', 'user_id', 'events'])
    .where('user_id', 'in', userIds)
    .where('enabled', '=', 1)
    .execute();
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
