/**
 * The webhook side of the pipeline benchmark's webhook rows: one endpoint of the seeded user,
 * subscribed to `order.item.completed`, so that every item's outcome also sends one webhook.
 */
import type { Container } from '../../src/app/container.js';
import { insertEndpoint } from '../../src/webhooks/webhook-endpoints.repository.js';
import { generateSecret } from '../../src/webhooks/webhook-secret.js';

export async function subscribeEndpoint(container: Container, userId: number, url: string): Promise<void> {
  const now = Date.now();
  const none = { previous_secret: null, previous_secret_until: null, disabled_reason: null, disabled_at: null, failing_since: null, last_success_at: null };
  await insertEndpoint(container.database.db, { user_id: userId, url, description: 'pipeline bench', events: JSON.stringify(['order.item.completed']), secret: generateSecret(), enabled: 1, created_at: now, updated_at: now, ...none });
}
