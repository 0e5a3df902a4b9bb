import type { Static } from 'typebox';
import type { DeliveryLogRow } from './webhook-log.repository.js';
import type { DeliveryOutput, EndpointOutput, EventOutput } from './webhooks.schemas.js';
import type { WebhookEndpointRow, WebhookEventRow } from './webhooks.tables.js';

export type EndpointView = Static<typeof EndpointOutput>;
export type DeliveryView = Static<typeof DeliveryOutput>;
export type EventView = Static<typeof EventOutput>;

const iso = (ms: number) => new Date(Number(ms)).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** An endpoint as its owner sees it: never its secrets. */
export function presentEndpoint(row: WebhookEndpointRow): EndpointView {
  return {
    id: Number(row.id),
    url: row.url,
    events: JSON.parse(row.events) as EndpointView['events'],
    description: row.description,
    enabled: Boolean(Number(row.enabled)),
    disabled_reason: row.disabled_reason,
    disabled_at: isoOrNull(row.disabled_at),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export function presentDelivery(row: DeliveryLogRow): DeliveryView {
  return {
    id: Number(row.id),
    event_id: row.event_id,
    event_type: row.event_type as DeliveryView['event_type'],
    status: row.status,
    attempts: Number(row.attempts),
    last_status_code: row.last_status_code,
    duration_ms: row.last_duration_ms,
    last_error: row.last_error,
    next_attempt_at: row.status === 'pending' ? isoOrNull(row.next_attempt_at) : null,
    created_at: iso(row.created_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

/** The body every endpoint was sent (`{type, timestamp, data}`), with the event's id. */
export function presentEvent(row: WebhookEventRow): EventView {
  return { id: row.id, ...(JSON.parse(row.body) as Omit<EventView, 'id'>) };
}
