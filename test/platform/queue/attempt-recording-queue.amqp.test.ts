import type { AmqpWorker } from '../../../src/platform/queue/amqp/amqp-worker.js';
import { OutboxQueue } from '../../../src/platform/queue/outbox/outbox-queue.js';
import { describeWithServices } from '../../support/services.js';
import { createAmqpFixture } from './amqp-fixture.js';
import { attemptRecordingScenarios } from './attempt-recording.scenarios.js';

await describeWithServices(['rabbitmq'], 'job attempt log on RabbitMQ', () => {
  attemptRecordingScenarios('amqp driver on RabbitMQ, behind the outbox as the app has it', {
    async create() {
      const fixture = await createAmqpFixture();
      const queue = new OutboxQueue({ inner: fixture.queue, database: fixture.sqlite.database });
      return { queue, database: fixture.sqlite.database, crash: (worker) => (worker as AmqpWorker).abandon(), cleanup: fixture.cleanup };
    },
  });
});
