import { defineJob } from '../platform/queue/jobs.js';

export interface WebhookDeliveryPayload {
  /** The delivery's `msg_…` id. */
  messageId: string;
}

/** One per event and subscribed endpoint: POST the signed event to the endpoint. */
export const webhookDeliveryJob = defineJob<WebhookDeliveryPayload>('webhooks.delivery');
