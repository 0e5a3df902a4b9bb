import type { Updateable } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import type { WebhookDeliveriesTable, WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

/** A delivery with what sending it needs: its event's body and its endpoint. */
export function findDispatch(db: Executor, messageId: string) {
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
      'ev.body',
    ])
    .where('d.message_id', '=', messageId)
    .executeTakeFirst();
}

export type Dispatch = NonNullable<Awaited<ReturnType<typeof findDispatch>>>;

export type AttemptOutcome = Pick<
  Updateable<WebhookDeliveriesTable>,
  'status' | 'attempts' | 'last_status_code' | 'last_duration_ms' | 'last_error' | 'next_attempt_at' | 'finished_at' | 'updated_at'
>;

/** Records an attempt of a delivery still pending; false when it no longer was (finished by another run). */
export async function recordAttempt(db: Executor, deliveryId: number, outcome: AttemptOutcome): Promise<boolean> {
  const result = await tables(db).updateTable('webhook_deliveries').set(outcome).where('id', '=', deliveryId).where('status', '=', 'pending').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function markEndpointSucceeded(db: Executor, endpointId: number, now: number): Promise<void> {
  await tables(db).updateTable('webhook_endpoints').set({ failing_since: null, last_success_at: now, updated_at: now }).where('id', '=', endpointId).execute();
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
