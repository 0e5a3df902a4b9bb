import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, json, type TestApp } from '../support/app.js';

let t: TestApp;
let seq = 0;

beforeEach(async () => {
  // A per-address limit far above what these tests send: only the per-account throttle bites.
  t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', AUTH_LOGIN_FREE_ATTEMPTS: '3', AUTH_LOGIN_LOCKOUT_SECONDS: '30', AUTH_LOGIN_LOCKOUT_MAX_SECONDS: '100' } });
});
afterEach(() => t.close());

const PASSWORD = 'correct horse battery';

/** A registered user with a real password (argon2), from behind `remoteAddress`. */
async function account(): Promise<string> {
  const email = `throttled-${++seq}@example.test`;
  const res = await t.inject({ method: 'POST', url: '/api/register', payload: { name: 'Ann', email, password: PASSWORD, password_confirmation: PASSWORD } });
  expect(res.statusCode).toBe(201);
  return email;
}

const login = (email: string, password: string, remoteAddress = '127.0.0.1') => t.inject({ method: 'POST', url: '/api/login', payload: { email, password }, remoteAddress });

async function failTimes(email: string, times: number, remoteAddress?: string): Promise<void> {
  for (let i = 0; i < times; i++) expect((await login(email, 'wrong password', remoteAddress)).statusCode).toBe(422);
}

function expectThrottled(res: Awaited<ReturnType<typeof login>>, seconds: number): void {
  const message = `Too many login attempts. Please try again in ${seconds} seconds.`;
  expect({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json() }).toEqual({
    status: 429,
    retryAfter: String(seconds),
    body: { message, errors: { email: [message] } },
  });
}

describe('the per-account login throttle', () => {
  it('answers 429 with Retry-After once an account has failed its free attempts, even with the right password', async () => {
    const email = await account();
    await failTimes(email, 3);
    expectThrottled(await login(email, PASSWORD), 30);
    t.clock.advance(10_000);
    expectThrottled(await login(email.toUpperCase(), PASSWORD), 20);
  });

  it('doubles the delay with each further failure, up to the cap', async () => {
    const email = await account();
    await failTimes(email, 3);
    for (const seconds of [30, 60, 100, 100]) {
      expectThrottled(await login(email, 'wrong password'), seconds);
      t.clock.advance(seconds * 1000);
      expect((await login(email, 'wrong password')).statusCode).toBe(422);
    }
  });

  it('counts an account across addresses, and lets another account behind the same address in', async () => {
    const victim = await account();
    const other = await account();
    await failTimes(victim, 1, '10.0.0.1');
    await failTimes(victim, 1, '10.0.0.2');
    await failTimes(victim, 1, '10.0.0.3');
    expectThrottled(await login(victim, PASSWORD, '10.0.0.4'), 30);
    expect((await login(other, PASSWORD, '10.0.0.3')).statusCode).toBe(200);
  });

  it('clears the account’s failures when it logs in', async () => {
    const email = await account();
    await failTimes(email, 2);
    expect(json<{ token: string }>(await login(email, PASSWORD)).token).toBeTruthy();
    await failTimes(email, 2);
    expect((await login(email, PASSWORD)).statusCode).toBe(200);
  });

  it('lets the account in once the lockout has passed', async () => {
    const email = await account();
    await failTimes(email, 3);
    t.clock.advance(30_000);
    expect((await login(email, PASSWORD)).statusCode).toBe(200);
  });

  it('counts the failures of every process together, through the shared store', async () => {
    const email = await account();
    const other = await createTestApp({ env: { DATABASE_URL: t.config.databaseUrl, AUTH_LOGIN_FREE_ATTEMPTS: '3', AUTH_LOGIN_LOCKOUT_SECONDS: '30' } });
    try {
      await failTimes(email, 2);
      expect((await other.inject({ method: 'POST', url: '/api/login', payload: { email, password: 'wrong password' } })).statusCode).toBe(422);
      expectThrottled(await login(email, PASSWORD), 30);
    } finally {
      await other.close();
    }
  });

  it('keeps the per-address limit', async () => {
    await t.close();
    t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '2' } });
    const email = `nobody-${++seq}@example.test`;
    expect((await login(email, 'wrong password')).statusCode).toBe(422);
    expect((await login(email, 'wrong password')).statusCode).toBe(422);
    const limited = await login(`someone-else-${seq}@example.test`, 'wrong password');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ message: 'Too Many Attempts.' });
  });
});
