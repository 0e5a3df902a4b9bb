/** The OpenAPI descriptions of the webhooks routes: what an endpoint receives, and how to verify it. */

export const DELIVERY_DOC = [
  'Each event is POSTed to every enabled endpoint of its user subscribed to its type, with the JSON body `{"type": "<event type>", "timestamp": "<ISO-8601>", "data": {…}}`:',
  '`order.item.completed` and `order.item.failed` carry the item as `GET /api/orders/{id}` shows it plus `order_id`; `order.completed` carries the whole order.',
  '',
  'Signing follows Standard Webhooks. Headers: `webhook-id` (`msg_…`, the same on every attempt of one event to one endpoint: deduplicate on it),',
  '`webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 of HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}">`,',
  'keyed with the base64-decoded part of the secret after `whsec_`. For `secretOverlapHours` after a rotation, the header holds two space-separated',
  'signatures (`v1,<new> v1,<old>`): accept the request when any one matches, compared in constant time, and refuse a timestamp far from now.',
  '',
  'Any 2xx within the timeout is success. 410 disables the endpoint at once; 408, 429, 5xx, timeouts and network errors are retried with backoff',
  '(honouring Retry-After) for about three days; any other status fails the delivery at once. An endpoint whose deliveries have all failed for',
  'WEBHOOK_DISABLE_AFTER_HOURS is disabled, with the reason in `disabled_reason`.',
].join('\n');

export const EVENTS_DOC = [
  "The caller's events in the order they were recorded, after the event `since` (from the first kept event without it), for clients that cannot",
  'receive webhooks or missed some. Page on with the last id of `data` as `since` while `has_more` is true.',
  '',
  'Events are kept WEBHOOK_LOG_DAYS. An event is listed only once it is 2 seconds old: events are numbered as they are written, but',
  'transactions can commit out of that order, and an event that became visible after a later one was listed would otherwise be skipped for good.',
].join('\n');
