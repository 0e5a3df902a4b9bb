import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { systemRandom, type Random } from '../clock.js';
import { retryDelayMs } from '../queue/backoff.js';
import { UnavailableError } from '../unavailable.js';
import type { Store } from './store.js';

/** Deletes the key only while it holds the caller's value: a lock is released by its owner only. */
const DELETE_IF_VALUE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Renews the key's expiry only while it holds the caller's value: a lease is kept by its holder only. */
const EXTEND_IF_VALUE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** Counts and reads the remaining expiry in one step; only the increment that creates the key sets it. */
const INCREMENT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if count == tonumber(ARGV[2]) or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

interface ScriptedRedis extends Redis {
  intakeDeleteIfValue(key: string, value: string): Promise<number>;
  intakeExtendIfValue(key: string, value: string, ttlMs: number): Promise<number>;
  intakeIncrement(key: string, ttlMs: number, by: number): Promise<[number, number]>;
}

export interface RedisConnectionOptions {
  url: string;
  /** The longest any command waits, connected or not, before it fails. Default 2,000 ms. */
  commandTimeoutMs?: number;
  /** The longest a connection attempt takes before it counts as failed. Default 2,000 ms. */
  connectTimeoutMs?: number;
  /** Reconnection backs off exponentially from 100 ms up to this. Default 5,000 ms. */
  reconnectMaxDelayMs?: number;
  random?: Random;
}

export type RedisStoreOptions = {
  /** Every key of this store lives under it, so deployments and tests sharing a Redis never meet. */
  keyPrefix: string;
  /** Told once when Redis goes out of reach and once when it is back. */
  logger?: Logger;
} & ({ client: Redis } | RedisConnectionOptions);

/**
 * The store on Redis. Expiry is kept by the server. A store given a URL owns its connection and
 * closes it; a store given a client leaves it open for its owner.
 */
export class RedisStore implements Store {
  private readonly client: ScriptedRedis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly where: string;
  private lastError: Error | undefined;

  constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix;
    this.owned = !('client' in options);
    const client = 'client' in options ? options.client : new Redis(options.url, connectionSettings(options));
    this.where = `${client.options.host ?? 'localhost'}:${client.options.port ?? 6379}`;
    client.defineCommand('intakeDeleteIfValue', { numberOfKeys: 1, lua: DELETE_IF_VALUE });
    client.defineCommand('intakeIncrement', { numberOfKeys: 1, lua: INCREMENT });
    client.defineCommand('intakeExtendIfValue', { numberOfKeys: 1, lua: EXTEND_IF_VALUE });
    this.client = client as ScriptedRedis;
    if (this.owned) this.reportConnection(options.logger);
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call(async (redis) => (await redis.set(this.key(key), value, 'PX', expiry(ttlMs), 'NX')) === 'OK');
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.call(async (redis) => {
      await redis.set(this.key(key), value, 'PX', expiry(ttlMs));
    });
  }

  get(key: string): Promise<string | null> {
    return this.call((redis) => redis.get(this.key(key)));
  }

  delete(key: string): Promise<void> {
    return this.call(async (redis) => {
      await redis.del(this.key(key));
    });
  }

  deleteIfValue(key: string, value: string): Promise<boolean> {
    return this.call(async (redis) => (await redis.intakeDeleteIfValue(this.key(key), value)) === 1);
  }

  extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call(async (redis) => (await redis.intakeExtendIfValue(this.key(key), value, expiry(ttlMs))) === 1);
  }

  increment(key: string, ttlMs: number, by = 1): Promise<{ count: number; ttlMs: number }> {
    return this.call(async (redis) => {
      const [count, remaining] = await redis.intakeIncrement(this.key(key), expiry(ttlMs), by);
      return { count, ttlMs: remaining };
    });
  }

  ping(): Promise<void> {
    return this.call(async (redis) => {
      await redis.ping();
    });
  }

  async close(): Promise<void> {
    if (!this.owned || this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  /**
   * While a reconnection is pending the call fails at once rather than queue: during an outage
   * requests get their 503 immediately instead of piling up. A reply error (a bug: wrong type, bad
   * script) passes through; anything else means Redis is out of reach.
   */
  private async call<T>(command: (redis: ScriptedRedis) => Promise<T>): Promise<T> {
    if (this.client.status === 'reconnecting') throw this.unavailable();
    try {
      return await command(this.client);
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError') throw error;
      throw this.unavailable(error);
    }
  }

  private unavailable(error?: unknown): UnavailableError {
    const detail = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
    const reason =
      this.client.status === 'ready' ? detail : ['not connected', this.lastError?.message ?? detail].filter(Boolean).join(': ');
    return new UnavailableError('redis', `Redis store at ${this.where} is unavailable: ${reason}`, { cause: error ?? this.lastError });
  }

  private reportConnection(logger: Logger | undefined): void {
    // Without a listener ioredis prints every failed reconnection attempt to the console.
    this.client.on('error', (error: Error) => {
      const wasConnected = this.lastError === undefined;
      this.lastError = error;
      if (wasConnected) logger?.error({ err: error, redis: this.where }, 'redis store cannot reach Redis; store calls fail until it is back');
    });
    this.client.on('ready', () => {
      if (this.lastError === undefined) return;
      this.lastError = undefined;
      logger?.info({ redis: this.where }, 'redis store reconnected');
    });
  }
}

/**
 * Fail fast, recover by itself: a command waits at most `commandTimeoutMs` (queued while
 * disconnected, or sent to a Redis that does not answer), so an outage turns into quick errors
 * (503 and a failing /ready) rather than requests that hang, and reconnection never gives up.
 */
function connectionSettings(options: RedisConnectionOptions): RedisOptions {
  const commandTimeout = options.commandTimeoutMs ?? 2_000;
  const random = options.random ?? systemRandom;
  const backoff = { baseMs: 100, maxMs: options.reconnectMaxDelayMs ?? 5_000 };
  return {
    lazyConnect: false,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    commandTimeout,
    // A connection that stops answering while commands wait is dropped and replaced.
    socketTimeout: commandTimeout,
    keepAlive: 10_000,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    // A command whose reply was lost may have run; sending it again could double a count or deny its own lock.
    autoResendUnfulfilledCommands: false,
    // The commands that concurrent requests send in one turn of the event loop leave in one write.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => retryDelayMs(attempt, backoff, random),
  };
}

/** Redis refuses an expiry below 1 ms or with a fraction. */
function expiry(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
