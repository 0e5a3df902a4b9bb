import type { Generated, Insertable, Selectable } from 'kysely';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookEndpointsTable {
  id: Generated<number>;
  user_id: number;
  url: string;
  description: string | null;
  /** JSON array of event types. */
  events: string;
  /** `whsec_` + base64 of the signing key. */
  secret: string;
  /** The secret before the last rotation; it still signs until `previous_secret_until`. */
  previous_secret: string | null;
  previous_secret_until: number | null;
  /** 1 or 0, the same on every engine. */
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  /** Start of the current run of failed deliveries; null after a success. */
  failing_since: number | null;
  last_success_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookEventsTable {
  /** Commit-independent order of the events, for `GET /api/events?since=`. */
  seq: Generated<number>;
  /** `evt_…`, public. */
  id: string;
  user_id: number;
  type: string;
  /** The exact JSON body every endpoint is sent: `{type, timestamp, data}`. */
  body: string;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  /** `msg_…`: the `webhook-id` header, the same on every attempt. */
  message_id: string;
  endpoint_id: number;
  /** The event's public `evt_…` id. */
  event_id: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_duration_ms: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type NewWebhookEndpointRow = Insertable<WebhookEndpointsTable>;
export type WebhookEventRow = Selectable<WebhookEventsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

export interface WebhooksTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
