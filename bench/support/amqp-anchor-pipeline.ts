/**
 * bench:pipeline's hand-written RabbitMQ anchor (issue 11): row 3's broker work done with bare
 * amqplib the fastest known way, and less of it. The enqueue publishes each batch straight to a
 * durable priority queue and waits for the confirms once per batch (no outbox, no relay); one
 * consumer with prefetch = concurrency runs intake's order handler on the same database as row 3
 * (its item writes batched, as intake's worker has them) and acks each message after it. No retry tiers, parking, trace headers or metrics.
 */
import { setMaxListeners } from 'node:events';
import { connect } from 'amqplib';
import type { Config } from '../../src/config.js';
import { createContainer } from '../../src/app/container.js';
import { orderEventsOf } from './order-events.js';
import { orderIntegrationHandler } from '../../src/orders/orders.integration.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import { stderrLogger, type Pipeline } from './pipeline-drivers.js';

export async function startAmqpAnchorPipeline(config: Config, amqpUrl: string): Promise<Pipeline> {
  const container = await createContainer(config, { logger: stderrLogger(config) });
  const client = new ThirdPartyClient({ url: config.thirdPartyUrl ?? '', timeoutMs: config.thirdPartyTimeoutMs });
  // Its status writes batched as intake's worker batches them: the best known way.
  const handler = orderIntegrationHandler({ database: container.database, client, clock: container.clock, logger: container.logger, writeBatch: config.jobWriteBatch, events: orderEventsOf(container) });
  const connection = await connect(amqpUrl);
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  const queue = `amqp-anchor-${process.pid}-${Date.now()}`;
  await publisher.assertQueue(queue, { durable: true, arguments: { 'x-max-priority': 5 } });
  await consumer.prefetch(config.workerConcurrency);
  const idle = new AbortController().signal;
  // Shared by the handlers running at once, each of whose requests listens to it: not a leak.
  setMaxListeners(0, idle);
  let failures = 0;
  const { consumerTag } = await consumer.consume(queue, (message) => {
    if (!message) return;
    const { itemId } = JSON.parse(message.content.toString('utf8')) as { itemId: number };
    const context = { id: String(message.properties.messageId ?? itemId), queue: orderIntegrationJob.queue, attempt: 1, maxAttempts: 1, priority: 2 as const, enqueuedAt: 0, readyAt: 0, headers: {}, signal: idle };
    handler({ itemId }, context).then(
      () => consumer.ack(message),
      () => {
        failures++;
        consumer.nack(message, false, false);
      },
    );
  });
  return {
    container,
    async enqueue(items) {
      for (const item of items) publisher.publish('', queue, Buffer.from(JSON.stringify({ itemId: item.id })), { persistent: true, priority: item.priority });
      await publisher.waitForConfirms();
    },
    async leftovers() {
      const { messageCount } = await publisher.checkQueue(queue);
      return [...(messageCount > 0 ? [`${messageCount} messages left in ${queue}`] : []), ...(failures > 0 ? [`${failures} handler failures`] : [])];
    },
    async stop() {
      await consumer.cancel(consumerTag);
      await publisher.deleteQueue(queue);
      await connection.close();
      await client.close();
      await container.close();
    },
  };
}
