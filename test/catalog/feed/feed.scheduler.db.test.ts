import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedIngestService, FeedTrigger } from '../../../src/catalog/feed/feed-ingest.service.js';
import { startFeedScheduler } from '../../../src/catalog/feed/feed.scheduler.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { sleep, waitFor } from '../../support/driver-wait.js';

describe('feed scheduler', () => {
  let temp: TempDatabase | undefined;
  const stops: Array<() => void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await temp?.cleanup();
  });

  /** Several scheduler instances over one database and store, each with a feed that records its runs. */
  async function schedulers(count: number, schedule: string) {
    temp = await createTempDatabase('intake-scheduler');
    const runs: Array<{ instance: number; trigger: FeedTrigger; at: number }> = [];
    for (let instance = 0; instance < count; instance++) {
      const feed = {
        ingest: async ({ trigger }: { trigger: FeedTrigger }) => {
          runs.push({ instance, trigger, at: Date.now() });
          return { kind: 'locked' as const };
        },
      } as unknown as FeedIngestService;
      const scheduler = startFeedScheduler({ feed, database: temp.database, store: new DatabaseStore(temp.database), logger: pino({ level: 'silent' }), schedule, ingestOnStart: true });
      stops.push(() => scheduler.stop());
    }
    return runs;
  }

  it('runs a feed that was never ingested once at start, whatever the number of schedulers', async () => {
    const runs = await schedulers(3, '0 2 * * *');
    await waitFor(() => runs.length > 0, 5_000, 'the start-up run');
    await sleep(300);
    expect(runs.map((r) => r.trigger)).toEqual(['startup']);
  });

  it('fires each tick of the schedule on one scheduler only', async () => {
    const runs = await schedulers(3, '* * * * * *');
    await waitFor(() => runs.filter((r) => r.trigger === 'schedule').length >= 3, 6_000, 'three ticks');
    await sleep(300);
    const ticks = runs.filter((r) => r.trigger === 'schedule').map((r) => Math.floor(r.at / 1000));
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});
