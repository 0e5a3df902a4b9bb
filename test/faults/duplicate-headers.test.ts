import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, orderBody, type TestApp, type TestUser } from '../support/app.js';
import { listenOnLoopback, send } from '../support/raw-http.js';

/**
 * Headers sent twice, over a real socket (`inject` cannot repeat a header). Node keeps only the
 * first Authorization and joins two Idempotency-Keys into "a, b": both are refused with 400.
 */

let t: TestApp;
let u: TestUser;
let other: TestUser;
let origin: string;

beforeAll(async () => {
  t = await createTestApp({ env: { DUPLICATE_WINDOW_SECONDS: '0' } });
  u = await t.user('twice');
  other = await t.user('other');
  origin = (await listenOnLoopback(t.app)).origin;
});
afterAll(() => t.close());

const json = { 'content-type': 'application/json' };
const postOrder = (headers: Record<string, string | string[]>) => send(`${origin}/api/orders`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(orderBody()) });
const orderCount = async (user: TestUser) => (await t.inject({ method: 'GET', url: '/api/orders', headers: user.auth })).json<{ meta: { total: number } }>().meta.total;

describe('headers sent twice', () => {
  it('answers 400 to two Authorization headers, whichever comes first', async () => {
    const both = [u.auth.authorization!, other.auth.authorization!];
    for (const authorization of [both, [both[0]!, 'Bearer nonsense'], [both[0]!, both[0]!]]) {
      const user = await send(`${origin}/api/user`, { headers: { authorization } });
      expect(user.status).toBe(400);
      expect(JSON.parse(user.body)).toEqual({ message: 'The Authorization header must be sent once.' });
      expect((await postOrder({ authorization })).status).toBe(400);
    }
    expect(await orderCount(u)).toBe(0);
    expect(await orderCount(other)).toBe(0);
    const catalog = await send(`${origin}/api/v1/pornstars`, { method: 'POST', headers: { ...json, authorization: both }, body: '{}' });
    expect(catalog.status).toBe(400);
    expect(JSON.parse(catalog.body)).toMatchObject({ success: false, message: 'The Authorization header must be sent once.' });
  });

  it('answers 400 to two Idempotency-Key headers, and stores nothing', async () => {
    const res = await postOrder({ ...u.auth, 'idempotency-key': ['key-a', 'key-b'] });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ message: 'The Idempotency-Key header must be sent once.' });
    expect((await postOrder({ ...u.auth, 'idempotency-key': ['same', 'same'] })).status).toBe(400);
    expect(await orderCount(u)).toBe(0);
    // One header, even holding a comma, is one key.
    expect((await postOrder({ ...u.auth, 'idempotency-key': 'key-a, key-b' })).status).toBe(201);
    expect((await postOrder(u.auth)).status).toBe(201);
  });

  it('answers 401 to a token whose id has a leading zero, and accepts it without the id', async () => {
    const [id, secret] = u.token.split('|') as [string, string];
    expect((await send(`${origin}/api/user`, { headers: { authorization: `Bearer 0${id}|${secret}` } })).status).toBe(401);
    expect((await send(`${origin}/api/user`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
  });
});
