import { insertUser } from '../../src/auth/users.repository.js';
import type { Executor } from '../../src/platform/db/database.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import { timeOrderedId } from '../../src/platform/ids.js';
import type { DeliveryStatus, WebhookEndpointsTable, WebhooksTables } from '../../src/webhooks/webhooks.tables.js';

/** Endpoints, events and deliveries written as the API and the delivery worker would leave them. */
const tables = tablesOf<WebhooksTables>();

let seq = 0;

export async function seedUser(db: Executor, name: string, at: number): Promise<{ id: number; name: string; email: string }> {
  const email = `${name}-${++seq}@example.test`;
  const row = await insertUser(db, { name, email, password_hash: 'not-a-real-hash', created_at: at, updated_at: at });
  return { id: row.id, name, email };
}

type EndpointFields = Partial<Pick<WebhookEndpointsTable, 'url' | 'events' | 'enabled' | 'disabled_reason' | 'disabled_at' | 'failing_since' | 'last_success_at' | 'description'>>;

export async function seedEndpoint(db: Executor, userId: number, at: number, fields: EndpointFields = {}): Promise<number> {
  await tables(db)
    .insertInto('webhook_endpoints')
    .values({
      user_id: userId,
      url: `https://hooks.example.test/${++seq}`,
      description: null,
      events: JSON.stringify(['order.completed']),
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
      enabled: 1,
      created_at: at,
      updated_at: at,
      ...fields,
    })
    .execute();
  const row = await tables(db).selectFrom('webhook_endpoints').select('id').where('user_id', '=', userId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function seedEvent(db: Executor, userId: number, at: number): Promise<string> {
  const id = timeOrderedId('evt', at);
  await tables(db)
    .insertInto('webhook_events')
    .values({ id, user_id: userId, type: 'order.completed', body: JSON.stringify({ type: 'order.completed', timestamp: new Date(at).toISOString(), data: {} }), created_at: at })
    .execute();
  return id;
}

export interface DeliveryFields {
  status: DeliveryStatus;
  attempts?: number;
  /** When it was created (its event's time); the last attempt's time is `updatedAt`. */
  createdAt: number;
  updatedAt?: number;
}

/** `count` deliveries of one event each, to one endpoint, written 200 to a statement. Returns their message ids. */
export async function seedDeliveries(db: Executor, endpointId: number, userId: number, count: number, fields: DeliveryFields): Promise<string[]> {
  const updatedAt = fields.updatedAt ?? fields.createdAt;
  const rows = Array.from({ length: count }, () => ({ eventId: timeOrderedId('evt', fields.createdAt), messageId: timeOrderedId('msg', fields.createdAt) }));
  for (let start = 0; start < rows.length; start += 200) {
    const chunk = rows.slice(start, start + 200);
    await tables(db)
      .insertInto('webhook_events')
      .values(chunk.map(({ eventId }) => ({ id: eventId, user_id: userId, type: 'order.completed', body: JSON.stringify({ type: 'order.completed', timestamp: new Date(fields.createdAt).toISOString(), data: {} }), created_at: fields.createdAt })))
      .execute();
    await tables(db)
      .insertInto('webhook_deliveries')
      .values(
        chunk.map(({ eventId, messageId }) => ({
          message_id: messageId,
          endpoint_id: endpointId,
          event_id: eventId,
          status: fields.status,
          attempts: fields.attempts ?? (fields.status === 'pending' ? 0 : 1),
          last_status_code: fields.status === 'failed' ? 500 : fields.status === 'succeeded' ? 200 : null,
          next_attempt_at: fields.status === 'pending' ? updatedAt : null,
          created_at: fields.createdAt,
          updated_at: updatedAt,
          finished_at: fields.status === 'pending' ? null : updatedAt,
        })),
      )
      .execute();
  }
  return rows.map((row) => row.messageId);
}

export async function deliveryStatuses(db: Executor, endpointId: number): Promise<Record<string, number>> {
  const rows = await tables(db).selectFrom('webhook_deliveries').select('status').where('endpoint_id', '=', endpointId).execute();
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
  return counts;
}
