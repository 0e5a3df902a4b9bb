import type { AmqpWorker } from '../../../../src/platform/queue/amqp/amqp-worker.js';
import { OutboxQueue } from '../../../../src/platform/queue/outbox/outbox-queue.js';
import { describeWithServices } from '../../../support/services.js';
import { createAmqpFixture } from '../amqp-fixture.js';
import { queueContract } from '../queue.contract.js';
import { fastRelay } from './outbox-fixture.js';

await describeWithServices(['rabbitmq'], 'outbox over amqp', () => {
  // What production runs with QUEUE_DRIVER=amqp: enqueues inside a transaction become outbox rows, a relay publishes them.
  queueContract('outbox over the amqp driver on RabbitMQ, with a running relay', {
    capabilities: { exactPriorityStates: ['active'] },
    async create(options = {}) {
      const fixture = await createAmqpFixture(options.maxAttempts !== undefined ? { defaultMaxAttempts: options.maxAttempts } : {});
      const database = fixture.sqlite.database;
      const queue = new OutboxQueue({ inner: fixture.queue, database });
      const relay = fastRelay(queue, database);
      relay.start();
      return {
        queue,
        database,
        crash: (worker) => (worker as AmqpWorker).abandon(),
        cleanup: async () => {
          await relay.stop();
          await fixture.cleanup();
        },
      };
    },
  });
});
