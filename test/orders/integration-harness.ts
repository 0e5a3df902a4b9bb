import fs from 'node:fs';
import { pino } from 'pino';
import { insertUser } from '../../src/auth/users.repository.js';
import { createContainer, createJobRegistry, type Container } from '../../src/app/container.js';
import type { ItemDetails } from '../../src/orders/orders.integration.js';
import type { Clock } from '../../src/platform/clock.js';
import type { Worker } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';
import { createOrderAsApi } from '../support/orders.js';
import { startFakeThirdParty, type FakeThirdParty, type Reply } from './fake-third-party.js';

export const MAX_ATTEMPTS = 3;

/** Real time plus an offset that tests move forward, so that backoff runs for real but long waits are skipped. */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export interface Harness {
  container: Container;
  thirdParty: FakeThirdParty;
  clock: ReturnType<typeof offsetClock>;
  /** Stores an order of `items` (recurring by default) and returns its item ids. */
  order(...items: Array<Record<string, unknown>>): Promise<number[]>;
  startWorkers(concurrency?: number): void;
  item(id: number): Promise<{ status: string; details: ItemDetails | null }>;
  waitForStatus(id: number, status: string): Promise<{ status: string; details: ItemDetails | null }>;
  close(): Promise<void>;
}

let harness: Harness | undefined;

/** Closes the harness a test started; call it from afterEach. */
export async function closeHarness(): Promise<void> {
  await harness?.close();
  harness = undefined;
}

/**
 * A container with the job workers against a fake third party that answers as `reply` says, on
 * the run's database, with a clock the test can move forward.
 */
export async function start(reply: (index: number) => Reply, env: Record<string, string> = {}): Promise<Harness> {
  const thirdParty = await startFakeThirdParty((_req, i) => reply(i));
  const config = await testConfig({ JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS), JOB_BACKOFF_MS: '1', THIRD_PARTY_TIMEOUT_MS: '2000', DUPLICATE_WINDOW_SECONDS: '0', ...env });
  const clock = offsetClock();
  const container = await createContainer(config, { logger: pino({ level: 'silent' }), clock, random: () => 0.5 });
  const { registry, close: closeClient } = createJobRegistry(container, thirdParty.url);
  const user = await insertUser(container.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
  let workers: Worker[] = [];
  const item = async (id: number) => {
    const row = await container.database.db.selectFrom('order_items').select(['status', 'details']).where('id', '=', id).executeTakeFirstOrThrow();
    return { status: row.status as string, details: row.details === null ? null : (JSON.parse(row.details as string) as ItemDetails) };
  };
  harness = {
    container,
    thirdParty,
    clock,
    async order(...items) {
      const contents = (items.length > 0 ? items : [{}]).map((overrides, i) => ({ label: `item ${i}`, kind: 'recurring', cost: 12.5, ...overrides }));
      const created = await createOrderAsApi(container.orders, { principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: 'A', contact_point: 'B' }, contents } });
      return (JSON.parse(created.body) as { order: { contents: Array<{ id: number }> } }).order.contents.map((c) => c.id);
    },
    startWorkers(concurrency = 2) {
      workers = registry.start(container.queue, { concurrency });
    },
    item,
    async waitForStatus(id, status) {
      await waitFor(async () => (await item(id)).status === status, 5000, `item ${id} to be ${status}`);
      return item(id);
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop(1000)));
      await closeClient();
      await container.close();
      await thirdParty.close();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
