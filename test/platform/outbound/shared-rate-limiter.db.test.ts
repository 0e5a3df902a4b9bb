import { afterAll, describe, expect, it } from 'vitest';
import { windowOf } from '../../../src/platform/outbound/shared-rate-limiter.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { manualClock } from '../../support/driver-clock.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';
import { sharedRateLimiterContract } from './shared-rate-limiter.contract.js';

const opened: TempDatabase[] = [];
afterAll(async () => {
  for (const database of opened) await database.cleanup();
});

sharedRateLimiterContract(`the database store (${testDialect()})`, async () => {
  const temp = await createTempDatabase('intake-rate');
  opened.push(temp);
  const clock = manualClock();
  return { store: new DatabaseStore(temp.database, clock), clock };
});

describe('windowOf', () => {
  it('cuts time into windows of at least 100 ms with whole tokens', () => {
    expect(windowOf(50, 0)).toMatchObject({ tokens: 5, durationMs: 100 });
    expect(windowOf(15, 0)).toMatchObject({ tokens: 2, durationMs: 2000 / 15 });
    expect(windowOf(2000, 0)).toMatchObject({ tokens: 200, durationMs: 100 });
    expect(windowOf(0.5, 0)).toMatchObject({ tokens: 1, durationMs: 2000 });
    expect(windowOf(50, 250)).toMatchObject({ index: 2, endsAt: 300 });
  });
});
