import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisStore } from '../../../src/platform/store/redis-store.js';
import { manualClock } from '../../support/driver-clock.js';
import { describeWithServices, serviceUrls } from '../../support/services.js';
import { sharedRateLimiterContract } from './shared-rate-limiter.contract.js';

const prefix = `test:intake:rate:${randomUUID()}:`;
const stores: RedisStore[] = [];

await describeWithServices(['redis'], 'the shared rate limit on Redis', () => {
  afterAll(async () => {
    for (const store of stores) await store.close();
    const admin = new Redis(serviceUrls.redis);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  sharedRateLimiterContract('the Redis store', async () => {
    const store = new RedisStore({ url: serviceUrls.redis, keyPrefix: `${prefix}${stores.length}:` });
    stores.push(store);
    return { store, clock: manualClock(Date.now()) };
  });
});
