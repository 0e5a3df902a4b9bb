import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

let t: TestApp;

beforeEach(async () => {
  t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '2' } });
});
afterEach(() => t.close());

// Invalid bodies keep argon2 out of the way: the limit applies before validation.
const attempt = (url: string, remoteAddress = '127.0.0.1') => t.inject({ method: 'POST', url, payload: {}, remoteAddress });

describe('auth rate limit', () => {
  it.each(['/api/login', '/api/register'])('answers 429 with Retry-After once %s is over its per-minute limit', async (url) => {
    expect((await attempt(url)).statusCode).toBe(422);
    expect((await attempt(url)).statusCode).toBe(422);
    const limited = await attempt(url);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ message: 'Too Many Attempts.' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('lets the client in again once the minute has passed', async () => {
    await attempt('/api/login');
    await attempt('/api/login');
    expect((await attempt('/api/login')).statusCode).toBe(429);
    t.clock.advance(60_000);
    expect((await attempt('/api/login')).statusCode).toBe(422);
  });

  it('counts each client address and each route on its own', async () => {
    await attempt('/api/login');
    await attempt('/api/login');
    expect((await attempt('/api/login')).statusCode).toBe(429);
    expect((await attempt('/api/login', '10.0.0.2')).statusCode).toBe(422);
    expect((await attempt('/api/register')).statusCode).toBe(422);
  });

  it('does not limit authenticated routes', async () => {
    const u = await t.user();
    for (let i = 0; i < 4; i++) {
      expect((await t.inject({ method: 'GET', url: '/api/user', headers: u.auth })).statusCode).toBe(200);
    }
  });
});
