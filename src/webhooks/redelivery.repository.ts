import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import type { WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

/** Of these deliveries, those not `pending` (a pending one's job is on its way), with their webhook-id. */
export function deliveriesToResend(db: Executor, deliveryIds: readonly number[]): Promise<Array<{ id: number; message_id: string }>> {
  return tables(db).selectFrom('webhook_deliveries').select(['id', 'message_id']).where('id', 'in', [...deliveryIds]).where('status', '!=', 'pending').execute();
}

/** Back to `pending`, due now, with a fresh count of attempts. */
export async function markDeliveriesPending(db: Executor, deliveryIds: readonly number[], now: number): Promise<void> {
  await tables(db)
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, finished_at: null, updated_at: now })
    .where('id', 'in', [...deliveryIds])
    .where('status', '!=', 'pending')
    .execute();
}
