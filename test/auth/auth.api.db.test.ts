import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/tokens.js';
import { createTestApp, json, type TestApp } from '../support/app.js';

const TOKEN = /^(\d+)\|([A-Za-z0-9]{40})$/;
const UNAUTHENTICATED = { message: 'Unauthenticated.' };

let t: TestApp;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
});
afterAll(() => t.close());

function registration(overrides: Record<string, unknown> = {}) {
  const email = `person-${++seq}@example.test`;
  return { name: 'Ada Lovelace', email, password: 'correct horse battery', password_confirmation: 'correct horse battery', ...overrides };
}

const post = (url: string, payload: object, headers: Record<string, string> = {}) => t.inject({ method: 'POST', url, payload, headers });
const me = (token?: string) => t.inject({ method: 'GET', url: '/api/user', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('POST /api/register', () => {
  it('creates the user and answers 201 with the user and a "<id>|<secret>" token', async () => {
    const body = registration({ name: '  Ada  ', email: 'Ada.Mixed@Example.TEST' });
    const res = await post('/api/register', body);
    expect(res.statusCode).toBe(201);
    const out = json<{ user: Record<string, unknown>; token: string }>(res);
    expect(Object.keys(out).sort()).toEqual(['token', 'user']);
    expect(Object.keys(out.user).sort()).toEqual(['created_at', 'email', 'id', 'name']);
    expect(out.user).toMatchObject({ name: 'Ada', email: 'ada.mixed@example.test', created_at: new Date(t.clock.now()).toISOString() });
    expect(out.token).toMatch(TOKEN);
    expect((await me(out.token)).json()).toEqual(out.user);
  });

  it('stores an argon2id hash of the password and only the sha256 of the token secret', async () => {
    const body = registration();
    const { token, user } = json<{ token: string; user: { id: number } }>(await post('/api/register', body));
    const db = t.container.database.db;
    const row = await db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(body.password);
    const [, id, secret] = TOKEN.exec(token)!;
    const stored = await db.selectFrom('personal_access_tokens').select('token_hash').where('id', '=', Number(id)).executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashSecret(secret!));
  });

  it('refuses an email already taken, whatever its case, with 422', async () => {
    const body = registration();
    expect((await post('/api/register', body)).statusCode).toBe(201);
    const again = await post('/api/register', { ...body, email: body.email.toUpperCase() });
    expect(again.statusCode).toBe(422);
    expect(again.json()).toEqual({ message: 'The email has already been taken.', errors: { email: ['The email has already been taken.'] } });
  });

  it('refuses a password confirmation that does not match with 422', async () => {
    const res = await post('/api/register', registration({ password_confirmation: 'something else entirely' }));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      message: 'The password field confirmation does not match.',
      errors: { password: ['The password field confirmation does not match.'] },
    });
  });

  it('names every missing field in one 422', async () => {
    const res = await post('/api/register', {});
    expect(res.statusCode).toBe(422);
    const { message, errors } = json<{ message: string; errors: Record<string, string[]> }>(res);
    expect(Object.keys(errors).sort()).toEqual(['email', 'name', 'password', 'password_confirmation']);
    expect(errors.email).toEqual(['The email field is required.']);
    expect(message).toMatch(/^The .* field is required\. \(and 3 more errors\)$/);
  });

  it.each([
    ['a malformed email', { email: 'not-an-email' }, 'email'],
    ['a short password', { password: 'short', password_confirmation: 'short' }, 'password'],
    ['a whitespace-only name', { name: '   ' }, 'name'],
    ['a name over 255 characters', { name: 'n'.repeat(256) }, 'name'],
    ['a name that is not a string', { name: 42 }, 'name'],
  ])('refuses %s with 422 on that field', async (_what, overrides, field) => {
    const res = await post('/api/register', registration(overrides));
    expect(res.statusCode).toBe(422);
    expect(Object.keys(json<{ errors: object }>(res).errors)).toEqual([field]);
  });
});

describe('POST /api/login', () => {
  it('returns the user and a new token for the right credentials', async () => {
    const body = registration();
    const registered = json<{ token: string; user: object }>(await post('/api/register', body));
    const res = await post('/api/login', { email: body.email.toUpperCase(), password: body.password });
    expect(res.statusCode).toBe(200);
    const out = json<{ token: string; user: object }>(res);
    expect(out.user).toEqual(registered.user);
    expect(out.token).toMatch(TOKEN);
    expect(out.token).not.toBe(registered.token);
    expect((await me(out.token)).statusCode).toBe(200);
    expect((await me(registered.token)).statusCode).toBe(200);
  });

  it('refuses a wrong password and an unknown email with the same 422', async () => {
    const body = registration();
    await post('/api/register', body);
    const wrong = await post('/api/login', { email: body.email, password: 'not the password' });
    const unknown = await post('/api/login', { email: 'nobody@example.test', password: body.password });
    const expected = { message: 'These credentials do not match our records.', errors: { email: ['These credentials do not match our records.'] } };
    expect([wrong.statusCode, unknown.statusCode]).toEqual([422, 422]);
    expect(wrong.json()).toEqual(expected);
    expect(unknown.json()).toEqual(expected);
  });

  it('refuses a body without credentials with 422', async () => {
    const res = await post('/api/login', { email: 'a@example.test' });
    expect(res.statusCode).toBe(422);
    expect(json<{ errors: object }>(res).errors).toEqual({ password: ['The password field is required.'] });
  });
});

describe('bearer tokens', () => {
  it('accepts the token with and without its "<id>|" part', async () => {
    const u = await t.user('bearer');
    const secret = u.token.split('|')[1]!;
    const withId = await me(u.token);
    const bare = await me(secret);
    expect(withId.statusCode).toBe(200);
    expect(bare.statusCode).toBe(200);
    expect(bare.json()).toEqual(withId.json());
    expect(withId.json()).toMatchObject({ id: u.id, email: u.email });
  });

  it('accepts the scheme in any case', async () => {
    const u = await t.user();
    const res = await t.inject({ method: 'GET', url: '/api/user', headers: { authorization: `bearer ${u.token}` } });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty token', ''],
    ['an unknown bare secret', 'x'.repeat(40)],
    ['an unknown id', '999999|' + 'x'.repeat(40)],
    ['a malformed id', 'abc|' + 'x'.repeat(40)],
  ])('answers 401 "Unauthenticated." for %s', async (_what, token) => {
    const res = await me(token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(UNAUTHENTICATED);
  });

  it('answers 401 for another token id paired with a valid secret', async () => {
    const a = await t.user();
    const b = await t.user();
    const [idA] = a.token.split('|');
    const secretB = b.token.split('|')[1]!;
    expect((await me(`${idA}|${secretB}`)).statusCode).toBe(401);
  });

  it('answers 401 for a non-Bearer scheme', async () => {
    const u = await t.user();
    const res = await t.inject({ method: 'GET', url: '/api/user', headers: { authorization: `Basic ${u.token}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(UNAUTHENTICATED);
  });

  it('answers 401 once the token has expired', async () => {
    const u = await t.user();
    const id = Number(u.token.split('|')[0]);
    await sql`update personal_access_tokens set expires_at = ${t.clock.now() + 1000} where id = ${id}`.execute(t.container.database.db);
    expect((await me(u.token)).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await me(u.token)).statusCode).toBe(401);
  });
});

describe('POST /api/logout', () => {
  it('revokes the current token only, which then gets 401', async () => {
    const body = registration();
    const first = json<{ token: string }>(await post('/api/register', body)).token;
    const second = json<{ token: string }>(await post('/api/login', { email: body.email, password: body.password })).token;
    const res = await post('/api/logout', {}, { authorization: `Bearer ${first}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'Logged out.' });
    const after = await me(first);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toEqual(UNAUTHENTICATED);
    expect((await me(second)).statusCode).toBe(200);
  });

  it('answers 401 without a token', async () => {
    const res = await t.inject({ method: 'POST', url: '/api/logout' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(UNAUTHENTICATED);
  });
});

describe('characters no database stores: lone surrogates and NUL', () => {
  const unpaired = (field: string) => `The ${field} field must not contain NUL characters or unpaired surrogates.`;

  it('refuses them in the name, email and password of a registration with 422, naming each field', async () => {
    const res = await post('/api/register', registration({ name: 'Ada \ud800', password: 'secret\udfff-long', password_confirmation: 'secret\udfff-long' }));
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json<{ errors: Record<string, string[]> }>().errors).toEqual({ name: [unpaired('name')], password: [unpaired('password')] });
    const email = await post('/api/register', registration({ email: 'ada\ud83d@example.test' }));
    expect(email.statusCode).toBe(422);
    expect(Object.keys(email.json<{ errors: Record<string, string[]> }>().errors)).toEqual(['email']);
    const nul = await post('/api/register', registration({ name: 'Ada\u0000Lovelace' }));
    expect(nul.statusCode, nul.body).toBe(422);
    expect(nul.json<{ errors: Record<string, string[]> }>().errors).toEqual({ name: [unpaired('name')] });
  });

  it('refuses them in the credentials of a login with 422', async () => {
    const res = await post('/api/login', { email: 'someone\ud800@example.test', password: 'pass\udc00word' });
    expect(res.statusCode).toBe(422);
    expect(res.json<{ errors: Record<string, string[]> }>().errors).toEqual({ email: [unpaired('email')], password: [unpaired('password')] });
  });

  it('keeps a name with surrogate pairs (emoji) as sent', async () => {
    const res = await post('/api/register', registration({ name: 'Ada 😀' }));
    expect(res.statusCode).toBe(201);
    expect(json<{ user: { name: string } }>(res).user.name).toBe('Ada 😀');
  });
});
