import { Cron } from 'croner';
import type { Container } from './container.js';
import { deleteExpiredIdempotencyRecords } from './platform/idempotency/idempotency.repository.js';

/** Periodic housekeeping, run by the scheduler role: expired store keys and idempotency records. */
export function startMaintenance(container: Container, schedule = '*/5 * * * *'): { stop(): void } {
  const log = container.logger.child({ task: 'maintenance' });
  const job = new Cron(schedule, { timezone: 'UTC', protect: true, catch: (error) => log.error({ err: error }, 'maintenance failed') }, async () => {
    const lock = `lock:maintenance:${process.pid}:${Date.now()}`;
    if (!(await container.store.setIfAbsent('lock:maintenance', lock, 60_000))) return;
    try {
      const keys = await container.store.sweepExpired();
      const records = await deleteExpiredIdempotencyRecords(container.database.db, container.clock.now());
      if (keys + records > 0) log.info({ keys, records }, 'swept expired keys');
    } finally {
      await container.store.deleteIfValue('lock:maintenance', lock);
    }
  });
  return { stop: () => job.stop() };
}
