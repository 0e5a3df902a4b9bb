import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/platform/net/retry-after.js';
import { ThirdPartyClient, ThirdPartyUnreachableError } from '../../src/orders/third-party.client.js';
import { startFakeThirdParty, type FakeThirdParty } from './fake-third-party.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores an absent or unreadable value', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['5', '10'], now)).toBe(5000);
  });
});

describe('ThirdPartyClient', () => {
  let server: FakeThirdParty | undefined;
  let client: ThirdPartyClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = server = undefined;
  });

  it('POSTs the order as JSON with the Idempotency-Key and traceparent headers', async () => {
    server = await startFakeThirdParty(() => ({ status: 503, headers: { 'retry-after': '7' } }));
    client = new ThirdPartyClient({ url: server.url, timeoutMs: 2000 });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const response = await client.send({ ProductName: 'P', Price: 1.5, Timestamp: '2026-01-01T00:00:00.000Z' }, { idempotencyKey: 'order-item-9', traceparent });
    expect(response).toMatchObject({ statusCode: 503, retryAfterMs: 7000 });
    expect(server.received[0]!.body).toEqual({ ProductName: 'P', Price: 1.5, Timestamp: '2026-01-01T00:00:00.000Z' });
    expect(server.received[0]!.headers).toMatchObject({ 'idempotency-key': 'order-item-9', traceparent, 'content-type': 'application/json' });
  });

  it('reports a refused connection as unreachable', async () => {
    server = await startFakeThirdParty();
    const url = server.url;
    await server.close();
    server = undefined;
    client = new ThirdPartyClient({ url, timeoutMs: 2000 });
    await expect(client.send({ ProductName: 'P', Price: 1, Timestamp: 't' }, { idempotencyKey: 'k' })).rejects.toMatchObject({
      name: 'ThirdPartyUnreachableError',
      timedOut: false,
    });
  });

  it('reports a third party that does not answer in time as a timeout', async () => {
    server = await startFakeThirdParty(() => 'hang');
    client = new ThirdPartyClient({ url: server.url, timeoutMs: 100 });
    const error = await client.send({ ProductName: 'P', Price: 1, Timestamp: 't' }, { idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThirdPartyUnreachableError);
    expect(error).toMatchObject({ timedOut: true, message: 'third party unreachable: timed out after 100 ms' });
  });

  it("stops waiting when the job's signal aborts, and does not call that a timeout", async () => {
    server = await startFakeThirdParty(() => 'hang');
    client = new ThirdPartyClient({ url: server.url, timeoutMs: 10_000 });
    const job = new AbortController();
    const started = Date.now();
    const sent = client.send({ ProductName: 'P', Price: 1, Timestamp: 't' }, { idempotencyKey: 'k' }, job.signal).catch((e: unknown) => e);
    setTimeout(() => job.abort(new Error('worker stopping')), 50);
    const error = await sent;
    expect(error).toBeInstanceOf(ThirdPartyUnreachableError);
    expect(error).toMatchObject({ timedOut: false });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up at once on a signal that has already aborted', async () => {
    server = await startFakeThirdParty(() => ({ status: 201 }));
    client = new ThirdPartyClient({ url: server.url, timeoutMs: 10_000 });
    const job = new AbortController();
    job.abort(new Error('gone'));
    await expect(client.send({ ProductName: 'P', Price: 1, Timestamp: 't' }, { idempotencyKey: 'k' }, job.signal)).rejects.toMatchObject({ timedOut: false });
    expect(server.received).toHaveLength(0);
  });
});
