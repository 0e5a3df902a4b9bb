import type { AmqpWorker } from '../../../src/platform/queue/amqp/amqp-worker.js';
import { describeWithServices } from '../../support/services.js';
import { queueContract } from './queue.contract.js';
import { createAmqpFixture } from './amqp-fixture.js';

await describeWithServices(['rabbitmq'], 'amqp queue', () => {
  queueContract('amqp driver on RabbitMQ', {
    capabilities: { transactionalEnqueue: false, exactPriorityStates: ['active'] },
    async create(options = {}) {
      const fixture = await createAmqpFixture(options.maxAttempts !== undefined ? { defaultMaxAttempts: options.maxAttempts } : {});
      return {
        queue: fixture.queue,
        database: fixture.sqlite.database,
        crash: (worker) => (worker as AmqpWorker).abandon(),
        cleanup: fixture.cleanup,
      };
    },
  });
});
