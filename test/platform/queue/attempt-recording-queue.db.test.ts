import { pino } from 'pino';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import type { DatabaseWorker } from '../../../src/platform/queue/database-worker.js';
import { createTempDatabase, testDialect } from '../../support/driver-databases.js';
import { attemptRecordingScenarios } from './attempt-recording.scenarios.js';

attemptRecordingScenarios(`database driver on ${testDialect()}`, {
  async create({ leaseMs }) {
    const temp = await createTempDatabase('intake-attempt-log');
    const queue = new DatabaseQueue({ database: temp.database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 5, defaultBackoff: { baseMs: 5, maxMs: 20 }, leaseMs, random: () => 0.5 });
    return { queue, database: temp.database, crash: (worker) => (worker as DatabaseWorker).abandon(), cleanup: temp.cleanup };
  },
});
