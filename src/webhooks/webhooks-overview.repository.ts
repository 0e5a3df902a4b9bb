import { sql, type ExpressionBuilder } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import type { DeliveryStatus, WebhookEndpointRow, WebhooksTables } from './webhooks.tables.js';

/** The columns of the owners' table that operators see beside an endpoint. */
interface OwnerTables {
  users: { id: number; name: string; email: string };
}
type Tables = WebhooksTables & OwnerTables;

const tables = tablesOf<Tables>();

/** What operators tell endpoints apart by: disabled, enabled with a run of failures, enabled and healthy. */
export type EndpointState = 'disabled' | 'failing' | 'enabled';

export interface EndpointFilter {
  userId?: number;
  state?: EndpointState;
}

export type OperatorEndpointRow = Omit<WebhookEndpointRow, 'secret' | 'previous_secret' | 'previous_secret_until'> & { user_name: string; user_email: string };

const ENDPOINT_COLUMNS = [
  'webhook_endpoints.id',
  'webhook_endpoints.user_id',
  'webhook_endpoints.url',
  'webhook_endpoints.description',
  'webhook_endpoints.events',
  'webhook_endpoints.enabled',
  'webhook_endpoints.disabled_reason',
  'webhook_endpoints.disabled_at',
  'webhook_endpoints.failing_since',
  'webhook_endpoints.last_success_at',
  'webhook_endpoints.created_at',
  'webhook_endpoints.updated_at',
] as const;

function matching(eb: ExpressionBuilder<Tables, 'webhook_endpoints'>, filter: EndpointFilter) {
  const conditions = [];
  if (filter.userId !== undefined) conditions.push(eb('webhook_endpoints.user_id', '=', filter.userId));
  if (filter.state === 'disabled') conditions.push(eb('webhook_endpoints.enabled', '=', 0));
  if (filter.state === 'failing') conditions.push(eb.and([eb('webhook_endpoints.enabled', '=', 1), eb('webhook_endpoints.failing_since', 'is not', null)]));
  if (filter.state === 'enabled') conditions.push(eb.and([eb('webhook_endpoints.enabled', '=', 1), eb('webhook_endpoints.failing_since', 'is', null)]));
  return eb.and(conditions);
}

/**
 * Endpoints of every user with their owner, the troubled ones first: disabled, then failing (the
 * oldest run of failures first), then healthy; by id within each.
 */
export function listEndpointsForOperators(db: Executor, filter: EndpointFilter, limit: number, offset: number): Promise<OperatorEndpointRow[]> {
  const rank = sql<number>`case when ${sql.ref('webhook_endpoints.enabled')} = 0 then 0 when ${sql.ref('webhook_endpoints.failing_since')} is not null then 1 else 2 end`;
  return tables(db)
    .selectFrom('webhook_endpoints')
    .innerJoin('users', 'users.id', 'webhook_endpoints.user_id')
    .select(ENDPOINT_COLUMNS)
    .select(['users.name as user_name', 'users.email as user_email'])
    .where((eb) => matching(eb, filter))
    .orderBy(rank)
    // Null sorts first on some engines and last on others: healthy endpoints have none.
    .orderBy(sql`coalesce(${sql.ref('webhook_endpoints.failing_since')}, 0)`)
    .orderBy('webhook_endpoints.id')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function countEndpointsForOperators(db: Executor, filter: EndpointFilter): Promise<number> {
  const row = await tables(db)
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where((eb) => matching(eb, filter))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export interface EndpointDeliveryCount {
  endpoint_id: number;
  status: DeliveryStatus;
  count: number;
}

/** Pending and failed deliveries per endpoint (from the endpoint-and-status index alone). */
export async function countOpenDeliveriesOf(db: Executor, endpointIds: readonly number[]): Promise<EndpointDeliveryCount[]> {
  if (endpointIds.length === 0) return [];
  const rows = await tables(db)
    .selectFrom('webhook_deliveries')
    .select(['endpoint_id', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('endpoint_id', 'in', [...endpointIds])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy(['endpoint_id', 'status'])
    .execute();
  return rows.map((row) => ({ endpoint_id: Number(row.endpoint_id), status: row.status, count: Number(row.count) }));
}

export interface EndpointFailedCount {
  endpoint_id: number;
  enabled: number;
  count: number;
}

/** Failed deliveries per endpoint (of one endpoint, or of all), for the endpoints that have any. */
export async function countFailedDeliveriesByEndpoint(db: Executor, endpointId?: number): Promise<EndpointFailedCount[]> {
  let query = tables(db)
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .select(['webhook_deliveries.endpoint_id', 'webhook_endpoints.enabled', (eb) => eb.fn.countAll<number>().as('count')])
    .where('webhook_deliveries.status', '=', 'failed')
    .groupBy(['webhook_deliveries.endpoint_id', 'webhook_endpoints.enabled'])
    .orderBy('webhook_deliveries.endpoint_id');
  if (endpointId !== undefined) query = query.where('webhook_deliveries.endpoint_id', '=', endpointId);
  const rows = await query.execute();
  return rows.map((row) => ({ endpoint_id: Number(row.endpoint_id), enabled: Number(row.enabled), count: Number(row.count) }));
}

/** The next `limit` failed deliveries of an endpoint after delivery `afterId`, in id order. */
export async function failedDeliveryIdsOf(db: Executor, endpointId: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await tables(db)
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'failed')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => Number(row.id));
}

export function findEndpointForOperators(db: Executor, endpointId: number): Promise<Pick<WebhookEndpointRow, 'id' | 'enabled' | 'disabled_reason'> | undefined> {
  return tables(db).selectFrom('webhook_endpoints').select(['id', 'enabled', 'disabled_reason']).where('id', '=', endpointId).executeTakeFirst();
}

/** A delivery's outcome as operators count it: its last attempt failed and another is scheduled, or it ended. */
export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed';

export interface DeliveryMinuteCount {
  /** Start of the minute, epoch milliseconds. */
  minute: number;
  outcome: DeliveryOutcome;
  count: number;
}

/**
 * Deliveries by the minute of their last attempt since `since`: succeeded and failed by when they
 * ended, retrying (pending after at least one attempt) by when they last changed. The filter on
 * `updated_at` reads the status-and-updated index.
 */
export async function countDeliveriesByMinute(db: Executor, since: number): Promise<DeliveryMinuteCount[]> {
  const at = sql<number>`coalesce(${sql.ref('finished_at')}, ${sql.ref('updated_at')})`;
  const minute = sql<number>`(${at} - ${at} % 60000)`;
  const rows = await tables(db)
    .selectFrom('webhook_deliveries')
    .select([minute.as('minute'), 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('status', 'in', ['succeeded', 'failed', 'pending'])
    .where('updated_at', '>=', since)
    .where((eb) => eb.or([eb('status', '!=', 'pending'), eb('attempts', '>', 0)]))
    .groupBy([minute, 'status'])
    .execute();
  return rows.map((row) => ({ minute: Number(row.minute), outcome: row.status === 'pending' ? 'retrying' : row.status, count: Number(row.count) }));
}
