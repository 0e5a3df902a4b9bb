import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { RedisStore, type RedisConnectionOptions } from '../../../src/platform/store/redis-store.js';
import { UnavailableError } from '../../../src/platform/unavailable.js';
import { sleep, waitFor } from '../../support/driver-wait.js';
import { freePort } from '../../support/processes.js';
import { describeWithServices, serviceUrls } from '../../support/services.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { storeContract } from './store.contract.js';

const url = serviceUrls.redis;
const prefixes: string[] = [];
const closers: (() => Promise<unknown>)[] = [];

function newPrefix(): string {
  const prefix = `test:intake:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}

/** A store of its own, closed after the test, on Redis or on whatever `options` point at. */
function openStore(options: Partial<RedisConnectionOptions> = {}, keyPrefix = newPrefix()): RedisStore {
  const store = new RedisStore({ url, keyPrefix, ...options });
  closers.push(() => store.close());
  return store;
}

async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await admin.del(...keys);
  }
}

async function timed(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

await describeWithServices(['redis'], 'redis store', () => {
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(url);
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
  });
  afterAll(async () => {
    await admin.quit();
  });

  storeContract('redis', {
    async create() {
      const prefix = newPrefix();
      return {
        store: new RedisStore({ url, keyPrefix: prefix }),
        advance: (ms) => sleep(ms),
        cleanup: () => deleteKeys(admin, prefix),
      };
    },
    // Redis keeps expiry in real time: a second gives the suite's margins room for a stalled machine.
    ttlMs: 1_000,
  });

  it('keeps every key under its prefix, so two stores never see each other', async () => {
    const [prefixA, prefixB] = [newPrefix(), newPrefix()];
    const a = openStore({}, prefixA);
    const b = openStore({}, prefixB);
    await a.set('k', 'from-a', 5_000);
    expect(await b.get('k')).toBeNull();
    expect(await b.setIfAbsent('k', 'from-b', 5_000)).toBe(true);
    expect((await a.increment('n', 5_000)).count).toBe(1);
    expect((await b.increment('n', 5_000)).count).toBe(1);
    await b.delete('k');
    expect(await a.get('k')).toBe('from-a');
    expect(await b.deleteIfValue('k', 'from-a')).toBe(false);
    expect(await admin.get(`${prefixA}k`)).toBe('from-a');
    expect((await admin.keys(`${prefixA}*`)).sort()).toEqual([`${prefixA}k`, `${prefixA}n`]);
  });

  it('leaves a lock and its expiry alone when another owner tries to release it', async () => {
    const prefix = newPrefix();
    const store = openStore({}, prefix);
    expect(await store.setIfAbsent('lock', 'owner-1', 60_000)).toBe(true);
    const before = await admin.pttl(`${prefix}lock`);
    expect(await store.deleteIfValue('lock', 'owner-2')).toBe(false);
    expect(await store.get('lock')).toBe('owner-1');
    const after = await admin.pttl(`${prefix}lock`);
    expect(after).toBeGreaterThan(before - 1_000);
    expect(after).toBeLessThanOrEqual(before);
    expect(await store.deleteIfValue('lock', 'owner-1')).toBe(true);
  });

  it('sets a counter expiry once and never extends it, whatever later increments ask', async () => {
    const prefix = newPrefix();
    const store = openStore({}, prefix);
    await store.increment('rate', 1_000);
    for (let i = 0; i < 20; i += 1) {
      const { ttlMs } = await store.increment('rate', 3_600_000);
      expect(ttlMs).toBeLessThanOrEqual(1_000);
    }
    expect(await admin.pttl(`${prefix}rate`)).toBeLessThanOrEqual(1_000);
    expect(await admin.get(`${prefix}rate`)).toBe('21');
  });

  it('gives a counter found without an expiry one, so it cannot count forever', async () => {
    const prefix = newPrefix();
    const store = openStore({}, prefix);
    await admin.set(`${prefix}rate`, '5');
    expect(await store.increment('rate', 2_000)).toEqual({ count: 6, ttlMs: 2_000 });
    expect(await admin.pttl(`${prefix}rate`)).toBeGreaterThan(1_000);
  });

  it('passes a reply error through as it is: a wrong type is a bug, not an outage', async () => {
    const prefix = newPrefix();
    const store = openStore({}, prefix);
    await admin.lpush(`${prefix}list`, 'x');
    const error = await store.increment('list', 1_000).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(UnavailableError);
    expect(String(error)).toMatch(/WRONGTYPE/);
  });

  it('leaves a client it was given open when it closes', async () => {
    const client = new Redis(url);
    closers.push(() => client.quit());
    const store = new RedisStore({ client, keyPrefix: newPrefix() });
    await store.set('k', 'v', 5_000);
    await store.close();
    expect(await client.ping()).toBe('PONG');
    expect(await store.get('k')).toBe('v');
  });

  it('fails fast with a clear error when nothing listens on the port', async () => {
    const port = await freePort();
    const store = openStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 1_000 });
    for (const call of [() => store.ping(), () => store.setIfAbsent('lock', 'me', 1_000), () => store.increment('n', 1_000)]) {
      const { error, ms } = await timed(call());
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toBe(`Redis store at 127.0.0.1:${port} is unavailable: not connected: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(ms).toBeLessThan(1_000);
    }
    const { ms } = await timed(store.close());
    expect(ms).toBeLessThan(500);
  });

  it('fails within the command timeout when the server accepts but never answers', async () => {
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const socket of accepted) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const address = silent.address() as net.AddressInfo;
    const store = openStore({ url: `redis://127.0.0.1:${address.port}`, commandTimeoutMs: 300, connectTimeoutMs: 300 });
    const { error, ms } = await timed(store.get('k'));
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/is unavailable: .*Command timed out/);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1_000);
  });

  it('fails during an outage, reconnects by itself afterwards, and logs each once', async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) || 6379 });
    closers.push(() => proxy.close());
    const logger = { error: vi.fn(), info: vi.fn() };
    const store = new RedisStore({
      url: `redis://127.0.0.1:${proxy.port}`,
      keyPrefix: newPrefix(),
      commandTimeoutMs: 500,
      reconnectMaxDelayMs: 200,
      logger: logger as unknown as Logger,
    });
    closers.push(() => store.close());
    await store.set('k', 'v', 60_000);

    await proxy.cut();
    const { error, ms } = await timed(store.get('k'));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(ms).toBeLessThan(1_000);
    await sleep(600);
    expect(logger.error).toHaveBeenCalledTimes(1);

    await proxy.restore();
    await waitFor(() => store.ping().then(() => true, () => false), 5_000, 'the store to reconnect');
    expect(await store.get('k')).toBe('v');
    expect(logger.info).toHaveBeenCalledTimes(1);
  });
});
