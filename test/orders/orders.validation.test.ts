import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_META_BYTES } from '../../src/orders/orders.validation.js';
import { createTestApp, item, orderBody, orderWith, type TestApp, type TestUser } from '../support/app.js';

interface ValidationBody {
  message: string;
  errors: Record<string, string[]>;
}

let t: TestApp;
let u: TestUser;

beforeAll(async () => {
  // No duplicate guard here: the same valid body is posted many times.
  t = await createTestApp({ env: { DUPLICATE_WINDOW_SECONDS: '0' } });
  u = await t.user('validation');
});
afterAll(() => t.close());

async function accepted(body: unknown) {
  const res = await t.postOrder(u, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ order: { client: Record<string, string>; contents: Array<Record<string, unknown>> } }>().order;
}

/** Posts `body`, expects 422 in Laravel's shape and returns the field names in error. */
async function rejected(body: unknown): Promise<string[]> {
  const res = await t.postOrder(u, body);
  expect(res.statusCode, res.body).toBe(422);
  const out = res.json<ValidationBody>();
  expect(Object.keys(out).sort()).toEqual(['errors', 'message']);
  expect(typeof out.message).toBe('string');
  for (const messages of Object.values(out.errors)) {
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(typeof m).toBe('string');
  }
  return Object.keys(out.errors).sort();
}

const emoji = '😀'; // one code point, two UTF-16 units

describe('order strings (client.identity, client.contact_point, contents.N.label)', () => {
  it.each([
    ['1 character', 'a'],
    ['255 characters', 'a'.repeat(255)],
    ['255 characters after trimming surrounding spaces', `  ${'a'.repeat(255)}  `],
    ['255 emoji, counted as code points', emoji.repeat(255)],
    ['255 accented characters', 'é'.repeat(255)],
  ])('accepts %s', async (_what, text) => {
    const order = await accepted(orderBody({ client: { identity: text, contact_point: text }, contents: [item({ label: text })] }));
    expect(order.client.identity).toBe(text.trim());
    expect(order.contents[0]!.label).toBe(text.trim());
  });

  it.each([
    ['256 characters', 'a'.repeat(256), 'must not be greater than 255 characters'],
    ['256 emoji', emoji.repeat(256), 'must not be greater than 255 characters'],
    ['an empty string', '', 'is required'],
    ['whitespace only', ' \t\n ', 'is required'],
  ])('refuses %s', async (_what, text, message) => {
    const res = await t.postOrder(u, orderBody({ client: { identity: text, contact_point: 'ok' }, contents: [item({ label: text })] }));
    expect(res.statusCode).toBe(422);
    const { errors } = res.json<ValidationBody>();
    expect(Object.keys(errors).sort()).toEqual(['client.identity', 'contents.0.label']);
    expect(errors['client.identity']![0]).toContain(message);
  });

  it('names the missing fields with dotted keys', async () => {
    expect(await rejected({ client: {}, contents: [{}] })).toEqual([
      'client.contact_point',
      'client.identity',
      'contents.0.cost',
      'contents.0.kind',
      'contents.0.label',
    ]);
    expect(await rejected({})).toEqual(['client', 'contents']);
  });
});

describe('order contents', () => {
  it.each([1, 100])('accepts %i items', async (n) => {
    const order = await accepted(orderWith(...Array.from({ length: n }, (_, i) => item({ label: `item ${i}` }))));
    expect(order.contents).toHaveLength(n);
    expect(order.contents.map((c) => c.label)).toEqual(Array.from({ length: n }, (_, i) => `item ${i}`));
  });

  it.each([0, 101])('refuses %i items', async (n) => {
    expect(await rejected(orderWith(...Array.from({ length: n }, () => item())))).toEqual(['contents']);
  });

  it('names the wrong item by its index, e.g. contents.1.kind', async () => {
    const res = await t.postOrder(u, orderWith(item(), item({ kind: 'weekly' })));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      message: 'The selected contents.1.kind is invalid.',
      errors: { 'contents.1.kind': ['The selected contents.1.kind is invalid.'] },
    });
  });

  it('names every problem of every item in one response', async () => {
    const fields = await rejected(orderWith(item({ cost: -1 }), item(), item({ label: 42, meta: 'x' })));
    expect(fields).toEqual(['contents.0.cost', 'contents.2.label', 'contents.2.meta']);
  });
});

describe('order cost', () => {
  it.each([0, 0.01, 12.5, 99_999_999.99, 1e-2, 7])('accepts %d and answers it as the same JSON number', async (cost) => {
    const res = await t.postOrder(u, orderWith(item({ cost })));
    expect(res.statusCode).toBe(201);
    expect(res.json<{ order: { contents: Array<{ cost: unknown }> } }>().order.contents[0]!.cost).toBe(cost);
  });

  it.each([
    ['a negative cent', -0.01],
    ['100,000,000', 100_000_000],
    ['3 decimals', 1.005],
    ['3 decimals at the top of the range', 99_999_999.999],
    ['a tiny fraction', 0.0001],
  ])('refuses %s', async (_what, cost) => {
    expect(await rejected(orderWith(item({ cost })))).toEqual(['contents.0.cost']);
  });

  it.each([
    ['a numeric string', '12.50'],
    ['null', null],
    ['a boolean', true],
    ['an object', { amount: 1 }],
  ])('refuses %s as the cost with 422, not 500', async (_what, cost) => {
    const res = await t.postOrder(u, orderWith(item({ cost })));
    expect(res.statusCode).toBe(422);
    expect(res.json<ValidationBody>().errors).toEqual({ 'contents.0.cost': ['The contents.0.cost field must be a number.'] });
  });
});

describe('order meta', () => {
  it('accepts an object and answers it unchanged', async () => {
    const meta = { frequency: 'weekly', nested: { a: [1, 2] }, priority: 'high' };
    expect((await accepted(orderWith(item({ meta })))).contents[0]!.meta).toEqual(meta);
  });

  it('accepts an empty array as {}', async () => {
    expect((await accepted(orderWith(item({ meta: [] })))).contents[0]!.meta).toEqual({});
  });

  it('treats an absent meta as {}', async () => {
    expect((await accepted(orderWith(item()))).contents[0]!.meta).toEqual({});
  });

  it.each([
    ['a non-empty array', [1]],
    ['a string', 'priority=high'],
    ['a number', 1],
    ['null', null],
  ])('refuses %s', async (_what, meta) => {
    const res = await t.postOrder(u, orderWith(item({ meta })));
    expect(res.statusCode).toBe(422);
    expect(res.json<ValidationBody>().errors).toEqual({ 'contents.0.meta': ['The contents.0.meta field must be an object.'] });
  });

  it(`accepts ${MAX_META_BYTES} bytes of meta and refuses one more`, async () => {
    const padding = (bytes: number) => ({ note: 'x'.repeat(bytes - '{"note":""}'.length) });
    expect(Buffer.byteLength(JSON.stringify(padding(MAX_META_BYTES)))).toBe(MAX_META_BYTES);
    await accepted(orderWith(item({ meta: padding(MAX_META_BYTES) })));
    expect(await rejected(orderWith(item({ meta: padding(MAX_META_BYTES + 1) })))).toEqual(['contents.0.meta']);
  });

  it('counts meta size in UTF-8 bytes, not characters', async () => {
    // 1100 emoji are 1100 code points but 4400 bytes.
    expect(await rejected(orderWith(item({ meta: { note: emoji.repeat(1100) } })))).toEqual(['contents.0.meta']);
  });

  it.each([
    ['low', 'low'],
    ['normal', 'normal'],
    ['high', 'high'],
    ['critical', 'critical'],
    ['max', 'max'],
  ])('accepts meta.priority %s', async (priority, expected) => {
    expect((await accepted(orderWith(item({ meta: { priority } })))).contents[0]!.priority).toBe(expected);
  });

  it.each([['urgent'], ['MAX'], [''], [5], [null], [['high']]])('refuses meta.priority %j', async (priority) => {
    const res = await t.postOrder(u, orderWith(item({ meta: { priority } })));
    expect(res.statusCode).toBe(422);
    expect(res.json<ValidationBody>().errors).toEqual({ 'contents.0.meta.priority': ['The selected contents.0.meta.priority is invalid.'] });
  });
});

describe('wrong types', () => {
  it.each([
    ['client', 'acme', 'client', 'The client field must be an object.'],
    ['client.identity', { identity: 1, contact_point: 'x' }, 'client.identity', 'The client.identity field must be a string.'],
    ['contents', { label: 'x' }, 'contents', 'The contents field must be an array.'],
    ['contents.0', ['x'], 'contents.0', 'The contents.0 field must be an object.'],
  ])('refuses a wrong type for %s', async (_what, value, field, message) => {
    const key = field.startsWith('client') ? 'client' : 'contents';
    const res = await t.postOrder(u, orderBody({ [key]: value }));
    expect(res.statusCode).toBe(422);
    expect(res.json<ValidationBody>().errors).toEqual({ [field]: [message] });
  });

  it.each([['an array', []], ['a string', 'order'], ['a number', 1], ['null', null]])('refuses %s as the whole body with 422', async (_what, body) => {
    const res = await t.inject({ method: 'POST', url: '/api/orders', headers: { ...u.auth, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(res.statusCode).toBe(422);
    expect(res.json<ValidationBody>().errors).toBeTypeOf('object');
  });

  it('summarises several errors as Laravel does', async () => {
    const res = await t.postOrder(u, { client: { identity: '', contact_point: '' }, contents: [item()] });
    expect(res.json<ValidationBody>().message).toBe('The client.identity field is required. (and 1 more error)');
  });
});
