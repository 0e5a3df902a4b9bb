/**
 * The webhook side of the pipeline benchmark's webhook rows: one endpoint of the seeded user,
 * subscribed to `order.item.completed`, so that every item's outcome also sends one webhook.
 */
import { randomBytes } from 'node:crypto';
import type { Container } from '../../src/app/container.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import type { WebhooksTables } from '../../src/webhooks/webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

export async function subscribeEndpoint(container: Container, userId: number, url: string): Promise<void> {
  const now = Date.now();
  await tables(container.database.db)
    .insertInto('webhook_endpoints')
    .values({
      user_id: userId,
      url,
      description: 'pipeline bench',
      events: JSON.stringify(['order.item.completed']),
      secret: `whsec_${randomBytes(32).toString('base64')}`,
      previous_secret: null,
      previous_secret_until: null,
      enabled: 1,
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
      last_success_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}
