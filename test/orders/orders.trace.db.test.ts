import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

describe('trace context of an order', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  const order = { client: { identity: 'ACME', contact_point: 'ops@acme.test' }, contents: [{ label: 'Plan', kind: 'recurring', cost: 5 }] };

  async function jobHeaders(): Promise<Record<string, string>> {
    const row = await t.container.database.db.selectFrom('jobs').select('headers').executeTakeFirstOrThrow();
    return JSON.parse(row.headers as string) as Record<string, string>;
  }

  it("carries the caller's trace id in each recurring item's job", async () => {
    const user = await t.user();
    const response = await t.postOrder(user, order, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(response.statusCode).toBe(201);
    expect((await jobHeaders()).traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('starts a trace when the caller sent none', async () => {
    const user = await t.user();
    expect((await t.postOrder(user, order)).statusCode).toBe(201);
    expect((await jobHeaders()).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
