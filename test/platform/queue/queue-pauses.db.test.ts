import { pino } from 'pino';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';
import { pauseContract } from './pause.contract.js';

function databaseQueue(temp: TempDatabase): DatabaseQueue {
  return new DatabaseQueue({ database: temp.database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 5, defaultBackoff: { baseMs: 20, maxMs: 1_000 }, leaseMs: 30_000, random: () => 0.5 });
}

pauseContract(`database driver on ${testDialect()}`, {
  async create() {
    const temp = await createTempDatabase('intake-pause');
    return { queues: [databaseQueue(temp), databaseQueue(temp)], database: temp.database, cleanup: temp.cleanup };
  },
});
