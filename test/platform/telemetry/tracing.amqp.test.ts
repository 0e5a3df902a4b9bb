import { randomUUID } from 'node:crypto';
import { recordTraces } from '../../support/trace-recorder.js';

// amqplib is patched as it loads, so the recorder starts before the modules that load it are imported.
const traces = recordTraces();
const { QUEUE_NAMES } = await import('../../../src/app/container.js');
const { startOutboxRelay } = await import('../../../src/app/roles.js');
const { TEST_TIERS_MS, deleteJobQueues } = await import('../queue/amqp-fixture.js');
const { describeWithServices, serviceUrls } = await import('../../support/services.js');
const { orderTraceContract } = await import('./order-trace.contract.js');

const prefix = `test-trace-${randomUUID().slice(0, 8)}.`;

await describeWithServices(['rabbitmq'], 'tracing over amqp', () => {
  // The orders path writes its job to the outbox in the order's transaction; the relay publishes it to RabbitMQ.
  orderTraceContract('one trace from POST /api/orders through the outbox and RabbitMQ to the third party', traces, {
    env: { QUEUE_DRIVER: 'amqp', AMQP_URL: serviceUrls.rabbitmq, AMQP_QUEUE_PREFIX: prefix, AMQP_RETRY_TIERS_MS: TEST_TIERS_MS.join(',') },
    startRelay(container) {
      const relay = startOutboxRelay(container, container.outbox!);
      return () => relay.stop();
    },
    hops: ['publish orders.integration'],
    librarySpans: [
      { name: 'publish <default>', under: 'publish orders.integration' },
      { name: `${prefix}orders.integration process`, under: 'publish <default>' },
    ],
    async cleanup() {
      await deleteJobQueues(prefix, QUEUE_NAMES);
    },
  });
});
