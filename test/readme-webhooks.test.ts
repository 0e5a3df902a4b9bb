import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer, createJobRegistry, type Container } from '../src/app/container.js';
import { insertUser } from '../src/auth/users.repository.js';
import type { Config } from '../src/config.js';
import type { Worker } from '../src/platform/queue/queue.js';
import { startFakeThirdParty, type FakeThirdParty } from './orders/fake-third-party.js';
import { testConfig } from './support/app.js';
import { waitFor } from './support/driver-wait.js';
import { createOrderAsApi } from './support/orders.js';
import { newSecret } from './webhooks/delivery-harness.js';
import { startReceiver, type Receiver } from './webhooks/webhook-receiver.js';

type Verify = (secret: string, headers: IncomingHttpHeaders, rawBody: string, toleranceSeconds?: number) => boolean;

/** The `js` block of the README's Webhooks section, as a reader would paste it. */
async function readmeVerifier(): Promise<Verify> {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('the README has no js block under "## Webhooks"');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'intake-readme-')), 'verify.mjs');
  fs.writeFileSync(file, block);
  return ((await import(pathToFileURL(file).href)) as { verifyWebhook: Verify }).verifyWebhook;
}

describe("the README's webhooks", () => {
  let verify: Verify;
  let config: Config;
  let container: Container;
  let thirdParty: FakeThirdParty;
  let receiver: Receiver;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;

  beforeAll(async () => {
    verify = await readmeVerifier();
    thirdParty = await startFakeThirdParty();
    receiver = await startReceiver();
    config = await testConfig({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true', DUPLICATE_WINDOW_SECONDS: '0' });
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    const jobs = createJobRegistry(container, thirdParty.url);
    closeJobs = jobs.close;
    workers = jobs.registry.start(container.queue, { concurrency: 4 });
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(1000)));
    await closeJobs();
    await container.close();
    await Promise.all([thirdParty.close(), receiver.close()]);
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  });

  it("tell a client when its order's items and the order finish, signed so that the README's verifier accepts them", async () => {
    const user = await insertUser(container.database.db, { name: 'Ann', email: 'ann@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const secret = newSecret();
    const now = Date.now();
    await container.database.db
      .insertInto('webhook_endpoints' as never)
      .values({ user_id: user.id, url: `${receiver.url}/intake`, description: null, events: JSON.stringify(['order.item.completed', 'order.item.failed', 'order.completed']), secret, enabled: 1, created_at: now, updated_at: now } as never)
      .execute();

    const principal = { userId: user.id, tokenId: 0, abilities: ['orders'] };
    const contents = [
      { label: 'Setup', kind: 'single', cost: 120 },
      { label: 'Support', kind: 'recurring', cost: 49.99, meta: { priority: 'high' } },
      { label: 'Hosting', kind: 'recurring', cost: 10 },
    ];
    const created = await createOrderAsApi(container.orders, { principal, body: { client: { identity: 'ACME Ltd', contact_point: 'ops@acme.test' }, contents } });
    const orderId = (JSON.parse(created.body) as { order: { id: number } }).order.id;

    await waitFor(() => receiver.arrivals.length >= 3, 10_000, 'two item events and the order event');
    const bodies = receiver.arrivals.map((arrival) => JSON.parse(arrival.body) as { type: string; data: { id: number; order_id?: number } });
    expect(bodies.map((body) => body.type).sort()).toEqual(['order.completed', 'order.item.completed', 'order.item.completed']);
    expect(bodies.filter((body) => body.type === 'order.item.completed').every((body) => body.data.order_id === orderId)).toBe(true);
    const order = bodies.find((body) => body.type === 'order.completed')!;
    expect(order.data).toEqual(await container.orders.get(principal, orderId));

    for (const arrival of receiver.arrivals) {
      expect(verify(secret, arrival.headers, arrival.body)).toBe(true);
      expect(verify(newSecret(), arrival.headers, arrival.body)).toBe(false);
      expect(verify(secret, arrival.headers, arrival.body.replace('"completed"', '"failed"'))).toBe(false);
      expect(verify(secret, { ...arrival.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }, arrival.body)).toBe(false);
    }
    expect(new Set(receiver.arrivals.map((arrival) => arrival.headers['webhook-id'])).size).toBe(3);
  });
});
