import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Store } from '../store/store.js';

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

/** Adapts the platform store to @fastify/rate-limit, so that limits hold across every instance. */
export function rateLimitStore(store: Store): FastifyRateLimitStoreCtor {
  class StoreBackedRateLimit implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly namespace = 'global',
    ) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      store.increment(`ratelimit:${this.namespace}:${key}`, timeWindow).then(
        ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    /** Despite its typings, @fastify/rate-limit passes the merged limit options, with the route under `routeInfo`. */
    child(options: object): FastifyRateLimitStore {
      const route = (options as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo ?? {};
      return new StoreBackedRateLimit(undefined, `${String(route.method)}:${route.url ?? ''}`);
    }
  }
  return StoreBackedRateLimit;
}
