import { defineJob } from '../platform/queue/jobs.js';

/** One per `recurring` item: send it to the third party and write the outcome back. */
export const orderIntegrationJob = defineJob<{ itemId: number }>('orders.integration');
