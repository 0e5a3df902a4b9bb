/** Every event a webhook endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['order.item.completed', 'order.item.failed', 'order.completed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
