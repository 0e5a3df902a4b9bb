import { Type } from 'typebox';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types.js';
import { MAX_URL_LENGTH } from './webhook-url.js';

const EventType = Type.Unsafe<WebhookEventType>({ type: 'string', enum: [...WEBHOOK_EVENT_TYPES] });
const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const EndpointOutput = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  events: Type.Array(EventType),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the endpoint was disabled: by its owner, a 410 answer, or deliveries failing for too long' }),
  disabled_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Url = Type.String({ maxLength: MAX_URL_LENGTH, description: 'https (http only where the server allows it), without credentials, whose host is not loopback, private or link-local' });
const Events = Type.Array(EventType, { minItems: 1, description: 'The event types to send, each at most once' });
// One `type` keyword, so that a wrong value gets one message ("a string or null"), not one per branch.
const Description = Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'At most 255 characters; null or empty clears it' });

export const CreateEndpointBody = Type.Object({ url: Url, events: Events, description: Type.Optional(Description) });

export const UpdateEndpointBody = Type.Object({
  url: Type.Optional(Url),
  events: Type.Optional(Events),
  enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a disabled endpoint and clears why it was disabled' })),
  description: Type.Optional(Description),
});

export const EndpointParams = Type.Object({ id: Type.String({ description: 'A positive integer' }) });
export const DeliveryParams = Type.Object({ id: Type.String({ description: 'A positive integer' }), delivery_id: Type.String({ description: 'A positive integer' }) });

const pageFields = {
  // Bounded so that the offset stays an exact integer SQL can bind.
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 15 })),
};
export const PageQuery = Type.Object(pageFields);

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
const DeliveryStatus = Type.Unsafe<(typeof DELIVERY_STATUSES)[number]>({ type: 'string', enum: [...DELIVERY_STATUSES] });
export const DeliveriesQuery = Type.Object({ ...pageFields, status: Type.Optional(DeliveryStatus) });

export const DeliveryOutput = Type.Object({
  id: Type.Integer(),
  event_id: Type.String({ description: 'The `evt_…` id of the event, as listed by GET /api/events' }),
  event_type: EventType,
  status: DeliveryStatus,
  attempts: Type.Integer(),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()], { description: 'Of the last attempt' }),
  last_error: Type.Union([Type.String(), Type.Null()]),
  next_attempt_at: NullableTimestamp,
  created_at: Timestamp,
  finished_at: NullableTimestamp,
});

export const MAX_EVENTS_LIMIT = 1000;
export const EventsQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 64, description: 'The id of the last event already seen; the listing starts after it' })),
  types: Type.Optional(Type.String({ maxLength: 1000, description: `Comma-separated event types (${WEBHOOK_EVENT_TYPES.join(', ')})` })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENTS_LIMIT, default: 100 })),
});

export const EventOutput = Type.Object({
  id: Type.String({ description: '`evt_…`' }),
  type: EventType,
  timestamp: Timestamp,
  data: Type.Unknown({ description: 'order.item.*: the item as GET /api/orders/{id} shows it, plus order_id; order.completed: the whole order' }),
});

export const EventsOutput = Type.Object({ data: Type.Array(EventOutput), has_more: Type.Boolean() });
