import type { Executor } from '../platform/db/database.js';
import { timeOrderedId } from '../platform/ids.js';
import { enqueueJobs } from '../platform/queue/jobs.js';
import type { WebhookEventType } from './event-types.js';
import { deliveryJobOptions, redeliver, type RedeliveryDeps } from './redelivery.js';
import { enabledEndpointsOf, insertDeliveries, insertEvents } from './webhook-events.repository.js';
import { webhookDeliveryJob } from './webhooks.jobs.js';

export interface NewWebhookEvent {
  userId: number;
  type: WebhookEventType;
  data: unknown;
  /** The W3C traceparent of the work that caused the event; its deliveries carry it. */
  traceparent?: string;
}

/**
 * Records events in the caller's transaction: each is kept for polling, and each endpoint of its
 * user subscribed to its type gets a delivery and a delivery job, in that same transaction, so
 * that an event exists, and is delivered, if and only if the change that caused it commits.
 */
export class WebhookEvents {
  constructor(private readonly deps: RedeliveryDeps) {}

  /** Sends deliveries again, in the caller's transaction (see `redeliver`); returns how many were queued. */
  redeliver(db: Executor, deliveryIds: readonly number[]): Promise<number> {
    return redeliver(db, this.deps, deliveryIds);
  }

  async publish(db: Executor, events: readonly NewWebhookEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.deps.clock.now();
    const timestamp = new Date(now).toISOString();
    const rows = events.map((event) => ({
      id: timeOrderedId('evt', now),
      user_id: event.userId,
      type: event.type,
      body: JSON.stringify({ type: event.type, timestamp, data: event.data }),
      created_at: now,
    }));
    await insertEvents(db, rows);

    const endpoints = await enabledEndpointsOf(db, events.map((event) => event.userId));
    if (endpoints.length === 0) return;
    const subscribed = endpoints.map((endpoint) => ({ ...endpoint, types: new Set(JSON.parse(endpoint.events) as string[]) }));
    const deliveries: Array<{ message_id: string; endpoint_id: number; event_id: string; traceparent?: string }> = [];
    events.forEach((event, i) => {
      for (const endpoint of subscribed) {
        if (endpoint.user_id !== event.userId || !endpoint.types.has(event.type)) continue;
        deliveries.push({ message_id: timeOrderedId('msg', now), endpoint_id: endpoint.id, event_id: rows[i]!.id, traceparent: event.traceparent });
      }
    });
    if (deliveries.length === 0) return;
    await insertDeliveries(
      db,
      deliveries.map(({ message_id, endpoint_id, event_id }) => ({ message_id, endpoint_id, event_id, status: 'pending' as const, next_attempt_at: now, created_at: now, updated_at: now })),
    );
    await enqueueJobs(
      this.deps.queue,
      webhookDeliveryJob,
      deliveries.map((delivery) => ({
        payload: { messageId: delivery.message_id },
        options: { ...deliveryJobOptions(this.deps, now), ...(delivery.traceparent && { headers: { traceparent: delivery.traceparent } }) },
      })),
      db,
    );
  }
}
