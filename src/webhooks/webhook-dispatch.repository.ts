import { sql, type Updateable } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { executorDialect } from '../platform/db/executor-dialect.js';
import { tablesOf } from '../platform/db/tables.js';
import type { WebhookDeliveriesTable, WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

/** Deliveries with what sending them needs: their event's body and their endpoint. */
export function findDispatches(db: Executor, messageIds: readonly string[]) {
  return tables(db)
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('webhook_events as ev', 'ev.id', 'd.event_id')
    .select([
      'd.id as delivery_id',
      'd.message_id',
      'd.status',
      'e.id as endpoint_id',
      'e.url',
      'e.secret',
      'e.previous_secret',
      'e.previous_secret_until',
      'e.enabled',
      'e.disabled_reason',
      'e.failing_since',
      'e.last_success_at',
      'ev.body',
    ])
    .where('d.message_id', 'in', [...messageIds])
    .execute();
}

/** One delivery with what sending it needs; undefined when it is gone. */
export async function findDispatch(db: Executor, messageId: string) {
  return (await findDispatches(db, [messageId]))[0];
}

export type Dispatch = Awaited<ReturnType<typeof findDispatches>>[number];

export type AttemptOutcome = Pick<
  Updateable<WebhookDeliveriesTable>,
  'status' | 'attempts' | 'last_status_code' | 'last_duration_ms' | 'last_error' | 'next_attempt_at' | 'finished_at' | 'updated_at'
>;

/** Records an attempt of a delivery still pending; false when it no longer was (finished by another run). */
export async function recordAttempt(db: Executor, deliveryId: number, outcome: AttemptOutcome): Promise<boolean> {
  const result = await tables(db).updateTable('webhook_deliveries').set(outcome).where('id', '=', deliveryId).where('status', '=', 'pending').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface DeliverySuccess {
  deliveryId: number;
  attempts: number;
  statusCode: number;
  durationMs: number;
}

/** Records the successes of several deliveries still pending in one statement (each row's figures picked by a CASE on its id). */
export async function recordSuccesses(db: Executor, successes: readonly DeliverySuccess[], now: number): Promise<void> {
  if (successes.length === 0) return;
  // PostgreSQL would type the parameters of a CASE as text.
  const integer = executorDialect(db) === 'postgres' ? (value: number) => sql`${value}::integer` : (value: number) => sql`${value}`;
  const byId = (pick: (success: DeliverySuccess) => number) =>
    sql<number>`case ${sql.ref('id')} ${sql.join(
      successes.map((success) => sql`when ${success.deliveryId} then ${integer(pick(success))}`),
      sql` `,
    )} end`;
  await tables(db)
    .updateTable('webhook_deliveries')
    .set({
      status: 'succeeded',
      attempts: byId((s) => s.attempts),
      last_status_code: byId((s) => s.statusCode),
      last_duration_ms: byId((s) => s.durationMs),
      last_error: null,
      next_attempt_at: null,
      finished_at: now,
      updated_at: now,
    })
    .where('id', 'in', successes.map((success) => success.deliveryId))
    .where('status', '=', 'pending')
    .execute();
}

/** Ends the endpoints' runs of failures and records their last success. */
export async function markEndpointsSucceeded(db: Executor, endpointIds: readonly number[], now: number): Promise<void> {
  if (endpointIds.length === 0) return;
  await tables(db).updateTable('webhook_endpoints').set({ failing_since: null, last_success_at: now, updated_at: now }).where('id', 'in', [...endpointIds]).execute();
}

/** Starts the endpoint's run of failures, unless one is running. */
export async function markEndpointFailing(db: Executor, endpointId: number, now: number): Promise<void> {
  await tables(db).updateTable('webhook_endpoints').set({ failing_since: now, updated_at: now }).where('id', '=', endpointId).where('failing_since', 'is', null).execute();
}

export async function disableEndpoint(db: Executor, endpointId: number, reason: string, now: number): Promise<void> {
  await tables(db)
    .updateTable('webhook_endpoints')
    .set({ enabled: 0, disabled_reason: reason, disabled_at: now, updated_at: now })
    .where('id', '=', endpointId)
    .where('enabled', '=', 1)
    .execute();
}

export async function countDisabledEndpoints(db: Executor): Promise<number> {
  const row = await tables(db).selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number | string>().as('count')).where('enabled', '=', 0).executeTakeFirstOrThrow();
  return Number(row.count);
}
