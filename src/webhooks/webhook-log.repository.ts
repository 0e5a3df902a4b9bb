import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import type { DeliveryStatus, WebhookDeliveryRow, WebhookEventRow, WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

export type DeliveryLogRow = WebhookDeliveryRow & { event_type: string };

function deliveriesOf(db: Executor, endpointId: number, status: DeliveryStatus | undefined) {
  let query = tables(db).selectFrom('webhook_deliveries').where('webhook_deliveries.endpoint_id', '=', endpointId);
  if (status !== undefined) query = query.where('webhook_deliveries.status', '=', status);
  return query;
}

/** One endpoint's deliveries, newest first, each with its event's type. */
export function listDeliveriesOfEndpoint(db: Executor, endpointId: number, status: DeliveryStatus | undefined, limit: number, offset: number): Promise<DeliveryLogRow[]> {
  return deliveriesOf(db, endpointId, status)
    .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries')
    .select('webhook_events.type as event_type')
    .orderBy('webhook_deliveries.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function countDeliveriesOfEndpoint(db: Executor, endpointId: number, status: DeliveryStatus | undefined): Promise<number> {
  const row = await deliveriesOf(db, endpointId, status).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export function findDeliveryOfEndpoint(db: Executor, endpointId: number, deliveryId: number): Promise<DeliveryLogRow | undefined> {
  return deliveriesOf(db, endpointId, undefined)
    .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
    .selectAll('webhook_deliveries')
    .select('webhook_events.type as event_type')
    .where('webhook_deliveries.id', '=', deliveryId)
    .executeTakeFirst();
}

/** The position (`seq`) of one of the user's events, if it is still kept. */
export async function findEventSeqForUser(db: Executor, userId: number, eventId: string): Promise<number | undefined> {
  const row = await tables(db).selectFrom('webhook_events').select('seq').where('id', '=', eventId).where('user_id', '=', userId).executeTakeFirst();
  return row === undefined ? undefined : Number(row.seq);
}

export interface EventsQuery {
  /** Only events after this position. */
  afterSeq?: number;
  /** Only events of these types; all when absent. */
  types?: readonly string[];
  /** Only events created in [createdFrom, createdUntil]. */
  createdFrom: number;
  createdUntil: number;
  limit: number;
}

/** A user's events in the order they were recorded. */
export function listEventsForUser(db: Executor, userId: number, query: EventsQuery): Promise<WebhookEventRow[]> {
  let select = tables(db)
    .selectFrom('webhook_events')
    .selectAll()
    .where('user_id', '=', userId)
    .where('created_at', '>=', query.createdFrom)
    .where('created_at', '<=', query.createdUntil);
  if (query.afterSeq !== undefined) select = select.where('seq', '>', query.afterSeq);
  if (query.types !== undefined) select = select.where('type', 'in', [...query.types]);
  return select.orderBy('seq').limit(query.limit).execute();
}
