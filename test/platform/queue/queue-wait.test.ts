import { describe, expect, it } from 'vitest';
import { LongWaitLog, oldestWaitMs } from '../../../src/platform/queue/queue-wait.js';
import { emptyStats, type QueueStats } from '../../../src/platform/queue/queue.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { manualClock } from '../../support/driver-clock.js';
import { captureLogs } from '../../support/log-capture.js';

const statsWith = (oldestReadySince: number | null | undefined): QueueStats => ({ ...emptyStats('orders.integration'), ...(oldestReadySince !== undefined && { oldestReadySince }) });

describe('the wait of the oldest ready job', () => {
  it('is the time since it became ready, 0 with none ready, and unknown where the driver cannot tell', () => {
    expect(oldestWaitMs(statsWith(1_000), 5_000)).toBe(4_000);
    expect(oldestWaitMs(statsWith(null), 5_000)).toBe(0);
    expect(oldestWaitMs(statsWith(undefined), 5_000)).toBeUndefined();
  });

  it('is logged once when it grows past QUEUE_WAIT_WARN_S, and once when it is over', async () => {
    const clock = manualClock(100_000);
    let since: number | null = 100_000;
    const logs = captureLogs();
    const log = new LongWaitLog({ queue: { stats: async () => statsWith(since) }, queueNames: ['orders.integration'], warnAfterMs: 60_000, clock, logger: createLogger({ level: 'info', role: 'scheduler', destination: logs.destination }) });
    await log.check();
    clock.advance(61_000);
    await log.check();
    await log.check();
    since = null;
    await log.check();
    await log.check();
    expect(logs.records().map((r) => [r.level, r.msg, r.queue, r.waitedS])).toEqual([
      [40, 'long wait: the oldest ready job has waited longer than QUEUE_WAIT_WARN_S', 'orders.integration', 61],
      [30, 'long wait over: the oldest ready job waits less than QUEUE_WAIT_WARN_S again', 'orders.integration', 0],
    ]);
  });
});
