import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRetryAfter } from '../../src/platform/net/retry-after.js';
import { EndpointSlots } from '../../src/webhooks/endpoint-slots.js';
import { judge } from '../../src/webhooks/webhook-delivery.handler.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { signatureOf, signingSecrets, webhookHeaders } from '../../src/webhooks/webhook-signature.js';
import { deliveryBackoff, deliveryMaxAttempts } from '../../src/webhooks/webhooks.jobs.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

describe('webhook signatures', () => {
  it('match the Standard Webhooks reference vector', () => {
    // From the specification's reference libraries (standard-webhooks, libraries/javascript).
    const message = { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}' };
    expect(signatureOf(message, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('sign with the previous secret too until its overlap ends, and not from then on', () => {
    const endpoint = { secret: 'whsec_bmV3', previous_secret: 'whsec_b2xk', previous_secret_until: 1_000 };
    expect(signingSecrets(endpoint, 999)).toEqual(['whsec_bmV3', 'whsec_b2xk']);
    expect(signingSecrets(endpoint, 1_000)).toEqual(['whsec_bmV3']);
    expect(signingSecrets({ ...endpoint, previous_secret: null, previous_secret_until: null }, 0)).toEqual(['whsec_bmV3']);
    const message = { id: 'msg_1', timestamp: 1_700_000_000, body: '{}' };
    const headers = webhookHeaders(message, signingSecrets(endpoint, 0));
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook('whsec_b2xk', headers, '{}', 1_700_000_000_000)).toBe(true);
  });
});

describe('delivery verdicts', () => {
  const answered = (statusCode: number, extra: Record<string, unknown> = {}) => judge({ kind: 'answered', statusCode, durationMs: 5, ...extra });

  it.each([200, 201, 202, 204, 299])('succeed on %i', (status) => {
    expect(answered(status)).toMatchObject({ error: null, statusCode: status });
  });

  it.each([408, 429, 500, 502, 503, 504])('retry %i, with its Retry-After', (status) => {
    expect(answered(status, { retryAfterMs: 7_000 })).toMatchObject({ retryable: true, retryAfterMs: 7_000, error: `endpoint answered ${status}` });
  });

  it.each([400, 401, 403, 404, 409, 413, 422, 101])('fail %i at once', (status) => {
    expect(answered(status)).toMatchObject({ retryable: false, error: `endpoint answered ${status}` });
    expect(answered(status).disable).toBeUndefined();
  });

  it('disable the endpoint on a 410', () => {
    expect(answered(410)).toMatchObject({ retryable: false, disable: 'the endpoint answered 410 Gone' });
  });

  it('fail a redirect at once, naming where it pointed', () => {
    expect(answered(307, { location: 'http://169.254.169.254/latest' })).toMatchObject({ retryable: false, error: expect.stringContaining('http://169.254.169.254/latest') });
    expect(answered(301, { location: '' }).error).toContain('(no Location)');
  });

  it('retry no answer, and never a refused target', () => {
    expect(judge({ kind: 'unreachable', durationMs: 2_000, error: 'timed out after 2000 ms' })).toMatchObject({ retryable: true, statusCode: null });
    expect(judge({ kind: 'refused', durationMs: 0, error: 'refused: address 10.0.0.1 is not public' })).toMatchObject({ retryable: false, statusCode: null });
  });
});

describe('endpoint slots', () => {
  it('hand out at most the cap per endpoint, each endpoint apart, and take a slot back once', () => {
    const slots = new EndpointSlots(2);
    const a1 = slots.tryAcquire(1);
    const a2 = slots.tryAcquire(1);
    expect(a1 && a2).toBeDefined();
    expect(slots.tryAcquire(1)).toBeUndefined();
    expect(slots.tryAcquire(2)).toBeDefined();
    a1!();
    a1!();
    expect(slots.inUse(1)).toBe(1);
    expect(slots.tryAcquire(1)).toBeDefined();
    expect(slots.tryAcquire(1)).toBeUndefined();
  });
});

describe('the delivery retry policy', () => {
  it('follows the configured schedule, capping a Retry-After at its longest wait', () => {
    expect(deliveryBackoff({ retryScheduleMs: [5_000, 300_000, 36_000_000] })).toEqual({ baseMs: 5_000, maxMs: 36_000_000, scheduleMs: [5_000, 300_000, 36_000_000] });
    expect(deliveryMaxAttempts({ retryScheduleMs: [5_000, 300_000, 36_000_000] })).toBe(4);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
    expect(parseRetryAfter('Fri, 04 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 04 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('the webhook sender', () => {
  async function server(handler: http.RequestListener) {
    const s = http.createServer(handler);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, close: () => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve()))) };
  }
  const sender = (timeoutMs = 1_000) => new WebhookSender({ timeoutMs, allowHttp: true, allowPrivateHosts: true, connectionsPerOrigin: 2, userAgent: 'intake-webhooks/test' });

  it('reads a huge answer only up to its cap, and keeps the status', async () => {
    let written = 0;
    const s = await server((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < 50 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (written < 50 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const client = sender();
    try {
      expect(await client.send(s.url, '{}', {})).toMatchObject({ kind: 'answered', statusCode: 200 });
      expect(written).toBeLessThan(50 * 1024 * 1024);
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('gives up on an answer that does not come within the timeout', async () => {
    const s = await server(() => undefined);
    const client = sender(200);
    try {
      expect(await client.send(s.url, '{}', {})).toEqual({ kind: 'unreachable', durationMs: expect.any(Number), error: 'timed out after 200 ms' });
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('reports a closed port as a network error, and a URL that is none as refused', async () => {
    const s = await server(() => undefined);
    const { url } = s;
    await s.close();
    const client = sender();
    try {
      expect(await client.send(url, '{}', {})).toMatchObject({ kind: 'unreachable', error: expect.stringMatching(/^network error: .*ECONNREFUSED/) });
      expect(await client.send('not a url', '{}', {})).toMatchObject({ kind: 'refused', error: 'refused: not a valid URL: not a url' });
      expect(await client.send('ftp://127.0.0.1/', '{}', {})).toMatchObject({ kind: 'refused' });
    } finally {
      await client.close();
    }
  });
});
