import { describe, expect, expectTypeOf, it } from 'vitest';
import { idempotencyLocks, queueFactories, storeFactories, type QueueFactory, type StoreFactory } from '../../src/app/drivers.js';
import { QUEUE_DRIVERS, STORE_DRIVERS, type Config, type QueueDriver, type StoreDriver } from '../../src/config.js';
import { systemClock } from '../../src/platform/clock.js';
import { ProcessLocks, StoreLocks } from '../../src/platform/idempotency/idempotency-locks.js';
import type { Store } from '../../src/platform/store/store.js';
import type { AmqpQueue } from '../../src/platform/queue/amqp/amqp-queue.js';
import type { DatabaseQueue } from '../../src/platform/queue/database-queue.js';
import type { MeteredQueue } from '../../src/platform/queue/metered-queue.js';
import type { OutboxQueue } from '../../src/platform/queue/outbox/outbox-queue.js';
import type { Queue, TransactionalQueue } from '../../src/platform/queue/queue.js';

// Checked by `tsc -p tsconfig.json` (test/ is part of it); at run time only the key lists are compared.

describe('driver factories', () => {
  it('wires one queue factory per QUEUE_DRIVER name, in a record keyed by the whole union', () => {
    expectTypeOf(queueFactories).toEqualTypeOf<Record<QueueDriver, QueueFactory>>();
    expect(Object.keys(queueFactories).sort()).toEqual([...QUEUE_DRIVERS].sort());
  });

  it('wires one store factory per STORE_DRIVER name, in a record keyed by the whole union', () => {
    expectTypeOf(storeFactories).toEqualTypeOf<Record<StoreDriver, StoreFactory>>();
    expect(Object.keys(storeFactories).sort()).toEqual([...STORE_DRIVERS].sort());
  });

  it('does not compile a driver name added to the union without its factory', () => {
    // @ts-expect-error 'nats' has no queue factory: adding it to QUEUE_DRIVERS breaks the build until it is wired
    const queues: Record<QueueDriver | 'nats', QueueFactory> = queueFactories;
    // @ts-expect-error 'memcached' has no store factory
    const stores: Record<StoreDriver | 'memcached', StoreFactory> = storeFactories;
    expect([queues, stores]).toHaveLength(2);
  });

  it('holds Idempotency-Keys in flight in Redis when it is the store, and in the process with the database store', () => {
    const store = {} as Store;
    const locksOf = (storeDriver: StoreDriver) => idempotencyLocks({ storeDriver } as Config, store, systemClock);
    expect(locksOf('redis')).toBeInstanceOf(StoreLocks);
    expect(locksOf('database')).toBeInstanceOf(ProcessLocks);
  });

  it('builds only queues that can join a business transaction', () => {
    expectTypeOf<ReturnType<QueueFactory>['queue']>().toEqualTypeOf<TransactionalQueue>();
  });
});

describe('transactional enqueue as a capability', () => {
  it('is had by the database driver, the outbox and the metering decorator', () => {
    expectTypeOf<DatabaseQueue>().toMatchTypeOf<TransactionalQueue>();
    expectTypeOf<OutboxQueue>().toMatchTypeOf<TransactionalQueue>();
    expectTypeOf<MeteredQueue>().toMatchTypeOf<TransactionalQueue>();
  });

  it('is not had by the amqp driver, which is a plain queue', () => {
    expectTypeOf<AmqpQueue>().toMatchTypeOf<Queue>();
    expectTypeOf<AmqpQueue>().not.toMatchTypeOf<TransactionalQueue>();
    const asTransactional = (queue: AmqpQueue): TransactionalQueue =>
      // @ts-expect-error a broker queue cannot pass for a transactional one
      queue;
    expect(asTransactional).toBeTypeOf('function');
  });
});
