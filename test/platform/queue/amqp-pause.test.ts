import type { TransactionalQueue } from '../../../src/platform/queue/queue.js';
import { describeWithServices } from '../../support/services.js';
import { createAmqpFixture } from './amqp-fixture.js';
import { pauseContract } from './pause.contract.js';

/** The broker driver alone (in production an outbox sits in front): its enqueues take no transaction, and the contract passes none. */
const asTransactional = (queue: unknown) => queue as TransactionalQueue;

await describeWithServices(['rabbitmq'], 'amqp queue pauses', () => {
  pauseContract('amqp driver on RabbitMQ, two connections', {
    async create() {
      const first = await createAmqpFixture();
      const second = await createAmqpFixture({ queuePrefix: first.prefix, connectionName: `${first.connectionName}-2` });
      return {
        queues: [asTransactional(first.queue), asTransactional(second.queue)],
        // The pauses live in the first fixture's database, which both "processes" read.
        database: first.sqlite.database,
        cleanup: async () => {
          await second.queue.close();
          await second.sqlite.cleanup();
          await first.cleanup();
        },
      };
    },
  });
});
