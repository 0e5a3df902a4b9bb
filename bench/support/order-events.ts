import type { Container } from '../../src/app/container.js';
import type { OrderEventSink } from '../../src/orders/order-events.js';

/**
 * The events an anchor's handler records with each outcome, as intake's worker does (issue 17):
 * the same work, so that the anchors' figures stay comparable.
 */
export function orderEventsOf(container: Container): OrderEventSink {
  return (db, events) => container.webhookEvents.publish(db, events);
}
