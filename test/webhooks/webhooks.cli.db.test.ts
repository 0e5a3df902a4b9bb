import fs from 'node:fs';
import { Command } from 'commander';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/app/container.js';
import { addVerboseOption, runProgram } from '../../src/platform/cli/run-program.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import { RETRY_BATCH, WebhooksOperatorService } from '../../src/webhooks/webhooks-operator.service.js';
import { registerWebhooksCommands } from '../../src/webhooks/webhooks.cli.js';
import { webhookDeliveryJob } from '../../src/webhooks/webhooks.jobs.js';
import type { WebhooksTables } from '../../src/webhooks/webhooks.tables.js';
import { testConfig } from '../support/app.js';
import { manualClock } from '../support/driver-clock.js';
import { fakeCliIo, type FakeCliIo } from '../support/fake-cli-io.js';
import { deliveryStatuses, seedDeliveries, seedEndpoint, seedUser } from './operator-fixtures.js';

const HOUR = 3_600_000;
const tables = tablesOf<WebhooksTables>();

describe('webhooks CLI', () => {
  let container: Container;
  const clock = manualClock(Date.UTC(2026, 11, 4, 12, 0, 0));

  beforeAll(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }), clock });
  });
  afterAll(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  async function run(io: FakeCliIo, ...args: string[]): Promise<number> {
    const program = addVerboseOption(new Command('intake'));
    const service = new WebhooksOperatorService({ database: container.database, events: container.webhookEvents, clock: container.clock });
    registerWebhooksCommands(program, (work) => work(service), io);
    return runProgram(program, args, io, 'user');
  }

  const queuedJobs = async () => (await container.queue.stats(webhookDeliveryJob.queue)).counts.ready;

  describe('webhooks:list', () => {
    let users: { alice: { id: number; email: string }; bob: { id: number; email: string } };
    let ids: { healthy: number; failingLong: number; failingShort: number; disabled: number; bobs: number };

    beforeAll(async () => {
      const db = container.database.db;
      const now = clock.now();
      users = { alice: await seedUser(db, 'alice', now), bob: await seedUser(db, 'bob', now) };
      const healthy = await seedEndpoint(db, users.alice.id, now, { url: 'https://alice.example.test/hooks', events: JSON.stringify(['order.completed', 'order.item.failed']), last_success_at: now - HOUR });
      const failingShort = await seedEndpoint(db, users.alice.id, now, { url: 'https://alice.example.test/short', failing_since: now - HOUR });
      const failingLong = await seedEndpoint(db, users.bob.id, now, { url: 'https://bob.example.test/long', failing_since: now - 30 * HOUR });
      const disabled = await seedEndpoint(db, users.bob.id, now, { url: 'https://bob.example.test/gone', enabled: 0, disabled_reason: 'answered 410 Gone', disabled_at: now - 2 * HOUR });
      ids = { healthy, failingShort, failingLong, disabled, bobs: failingLong };
      await seedDeliveries(db, healthy, users.alice.id, 3, { status: 'pending', createdAt: now });
      await seedDeliveries(db, healthy, users.alice.id, 2, { status: 'succeeded', createdAt: now - HOUR });
      await seedDeliveries(db, failingLong, users.bob.id, 4, { status: 'failed', createdAt: now - 2 * HOUR });
      await seedDeliveries(db, failingLong, users.bob.id, 1, { status: 'pending', attempts: 3, createdAt: now - HOUR });
    });

    it('prints every endpoint with its owner, state and open deliveries, the troubled ones first', async () => {
      const io = fakeCliIo({ columns: 200 });
      expect(await run(io, 'webhooks:list')).toBe(0);
      const lines = io.out().trimEnd().split('\n');
      expect(lines[0]).toMatch(/^\s*id\s+user\s+url\s+events\s+state\s+last success\s+pending\s+failed$/);
      expect(lines.slice(1).map((line) => Number(line.trim().split(/\s+/)[0]))).toEqual([ids.disabled, ids.failingLong, ids.failingShort, ids.healthy]);
      expect(lines[1]).toContain('disabled: answered 410 Gone');
      expect(lines[1]).toContain(users.bob.email);
      expect(lines[2]).toContain(`failing since ${new Date(clock.now() - 30 * HOUR).toISOString()}`);
      expect(lines[2]).toMatch(/\s1\s+4$/);
      expect(lines[4]).toContain('order.completed,order.item.failed');
      expect(lines[4]).toContain(new Date(clock.now() - HOUR).toISOString());
      expect(lines[4]).toMatch(/\senabled\s.*\s3\s+0$/);
      expect(io.err()).toBe('');
    });

    it('filters by user and by state, and says when --limit cut the list', async () => {
      const byUser = fakeCliIo({ columns: 200 });
      expect(await run(byUser, 'webhooks:list', '--user', String(users.alice.id))).toBe(0);
      expect(byUser.out()).not.toContain(users.bob.email);
      expect(byUser.out().trimEnd().split('\n')).toHaveLength(3);

      const failing = fakeCliIo({ columns: 200 });
      expect(await run(failing, 'webhooks:list', '--state', 'failing', '--json')).toBe(0);
      expect((JSON.parse(failing.out()) as Array<{ id: number }>).map((e) => e.id)).toEqual([ids.failingLong, ids.failingShort]);

      const healthy = fakeCliIo();
      expect(await run(healthy, 'webhooks:list', '--state', 'enabled', '--json')).toBe(0);
      expect((JSON.parse(healthy.out()) as Array<{ id: number }>).map((e) => e.id)).toEqual([ids.healthy]);

      const limited = fakeCliIo({ columns: 200 });
      expect(await run(limited, 'webhooks:list', '--limit', '2')).toBe(0);
      expect(limited.out().trimEnd().split('\n').at(-1)).toBe('(2 of 4 endpoints; --limit shows more)');

      const none = fakeCliIo();
      expect(await run(none, 'webhooks:list', '--user', '999999')).toBe(0);
      expect(none.out()).toBe('no webhook endpoints\n');
    });

    it('prints JSON with ISO times and the counts', async () => {
      const io = fakeCliIo();
      expect(await run(io, 'webhooks:list', '--json', '--user', String(users.bob.id))).toBe(0);
      const [disabled, failing] = JSON.parse(io.out()) as Array<Record<string, unknown>>;
      expect(disabled).toMatchObject({ id: ids.disabled, state: 'disabled', disabledReason: 'answered 410 Gone', user: { id: users.bob.id, name: 'bob', email: users.bob.email }, deliveries: { pending: 0, failed: 0 } });
      expect(failing).toMatchObject({ id: ids.failingLong, state: 'failing', failingSince: new Date(clock.now() - 30 * HOUR).toISOString(), lastSuccessAt: null, deliveries: { pending: 1, failed: 4 } });
    });

    it('refuses a bad state, user id or limit as a usage error', async () => {
      for (const args of [['--state', 'broken'], ['--user', 'abc'], ['--user', '0'], ['--limit', '0'], ['--limit', '1001']]) {
        const io = fakeCliIo();
        expect(await run(io, 'webhooks:list', ...args), args.join(' ')).toBe(1);
        expect(io.err(), args.join(' ')).toMatch(/^error: option '.+' argument '.+' is invalid/);
        expect(io.out()).toBe('');
      }
    });
  });

  describe('webhooks:retry-failed', () => {
    let user: { id: number };
    let endpoints: { small: number; large: number; disabled: number };

    beforeEach(async () => {
      const db = container.database.db;
      await tables(db).deleteFrom('webhook_deliveries').execute();
      await tables(db).deleteFrom('webhook_events').execute();
      await tables(db).deleteFrom('webhook_endpoints').execute();
      await container.queue.purgeParked(webhookDeliveryJob.queue);
      await tablesOf<{ jobs: { queue: string } }>()(db).deleteFrom('jobs').where('queue', '=', webhookDeliveryJob.queue).execute();
      const now = clock.now();
      user = await seedUser(db, 'carol', now);
      endpoints = {
        small: await seedEndpoint(db, user.id, now, { failing_since: now - HOUR }),
        large: await seedEndpoint(db, user.id, now, { failing_since: now - 5 * HOUR }),
        disabled: await seedEndpoint(db, user.id, now, { enabled: 0, disabled_reason: 'failing for 72 hours' }),
      };
      await seedDeliveries(db, endpoints.small, user.id, 3, { status: 'failed', createdAt: now - HOUR });
      await seedDeliveries(db, endpoints.small, user.id, 2, { status: 'succeeded', createdAt: now - HOUR });
      await seedDeliveries(db, endpoints.large, user.id, RETRY_BATCH + 20, { status: 'failed', createdAt: now - HOUR });
      await seedDeliveries(db, endpoints.disabled, user.id, 7, { status: 'failed', createdAt: now - HOUR });
    });

    it('shows what it would do with --dry-run, and changes nothing', async () => {
      const io = fakeCliIo();
      expect(await run(io, 'webhooks:retry-failed', '--dry-run')).toBe(0);
      expect(io.out()).toBe(`dry run: would send ${RETRY_BATCH + 23} failed delivery(ies) of 2 endpoint(s) again; left 7 failed delivery(ies) of disabled endpoints alone; nothing changed\n`);
      const json = fakeCliIo();
      expect(await run(json, 'webhooks:retry-failed', '--dry-run', '--json', '--endpoint', String(endpoints.small))).toBe(0);
      expect(JSON.parse(json.out())).toEqual({ dryRun: true, count: 3, endpoints: [{ id: endpoints.small, failed: 3 }], skippedOfDisabled: 0 });
      expect(await deliveryStatuses(container.database.db, endpoints.large)).toEqual({ failed: RETRY_BATCH + 20 });
      expect(await queuedJobs()).toBe(0);
    });

    it('sends one endpoint’s few failed deliveries again without asking, each back to pending with a job', async () => {
      const io = fakeCliIo();
      expect(await run(io, 'webhooks:retry-failed', '--endpoint', String(endpoints.small))).toBe(0);
      expect(io.out()).toBe('queued 3 failed delivery(ies) again\n');
      expect(await deliveryStatuses(container.database.db, endpoints.small)).toEqual({ pending: 3, succeeded: 2 });
      expect(await deliveryStatuses(container.database.db, endpoints.large)).toEqual({ failed: RETRY_BATCH + 20 });
      expect(await queuedJobs()).toBe(3);
      const attempts = await tables(container.database.db).selectFrom('webhook_deliveries').select(['attempts', 'finished_at']).where('endpoint_id', '=', endpoints.small).where('status', '=', 'pending').execute();
      expect(attempts.every((row) => Number(row.attempts) === 0 && row.finished_at === null)).toBe(true);
    });

    it('refuses to send more than the threshold again without a confirmation when stdin is not a terminal', async () => {
      const io = fakeCliIo({ tty: false });
      expect(await run(io, 'webhooks:retry-failed')).toBe(1);
      expect(io.err()).toBe(
        `error: refusing to send ${RETRY_BATCH + 23} failed webhook delivery(ies) of 2 endpoint(s) again without confirmation: stdin is not a terminal; pass --yes to go ahead, or --dry-run to see what it would do\n`,
      );
      expect(io.out()).toBe('');
      expect(await queuedJobs()).toBe(0);
    });

    it('asks on a terminal, and stops on anything but yes', async () => {
      const no = fakeCliIo({ tty: true, answer: 'n' });
      expect(await run(no, 'webhooks:retry-failed')).toBe(1);
      expect(no.err()).toContain(`Send ${RETRY_BATCH + 23} failed webhook delivery(ies) of 2 endpoint(s) again? [y/N] `);
      expect(no.err()).toContain('error: aborted');
      expect(await queuedJobs()).toBe(0);

      const yes = fakeCliIo({ tty: true, answer: 'y' });
      expect(await run(yes, 'webhooks:retry-failed')).toBe(0);
      expect(yes.out()).toBe(`queued ${RETRY_BATCH + 23} failed delivery(ies) again; left 7 failed delivery(ies) of disabled endpoints alone\n`);
    });

    it('sends every failed delivery of the enabled endpoints again in batches with --yes, and leaves disabled endpoints alone', async () => {
      const io = fakeCliIo();
      expect(await run(io, 'webhooks:retry-failed', '--yes', '--json')).toBe(0);
      expect(JSON.parse(io.out())).toEqual({ count: RETRY_BATCH + 23, skippedOfDisabled: 7 });
      expect(await deliveryStatuses(container.database.db, endpoints.large)).toEqual({ pending: RETRY_BATCH + 20 });
      expect(await deliveryStatuses(container.database.db, endpoints.small)).toEqual({ pending: 3, succeeded: 2 });
      expect(await deliveryStatuses(container.database.db, endpoints.disabled)).toEqual({ failed: 7 });
      expect(await queuedJobs()).toBe(RETRY_BATCH + 23);

      // Nothing failed is left: a second run queues none and asks nothing.
      const again = fakeCliIo();
      expect(await run(again, 'webhooks:retry-failed')).toBe(0);
      expect(again.out()).toBe('queued 0 failed delivery(ies) again; left 7 failed delivery(ies) of disabled endpoints alone\n');
      expect(await queuedJobs()).toBe(RETRY_BATCH + 23);
    });

    it('says so for a disabled endpoint, and fails for an endpoint that does not exist', async () => {
      const disabled = fakeCliIo();
      expect(await run(disabled, 'webhooks:retry-failed', '--endpoint', String(endpoints.disabled))).toBe(0);
      expect(disabled.out()).toBe('queued 0 failed delivery(ies) again; left 7 failed delivery(ies) of disabled endpoints alone\n');

      const missing = fakeCliIo();
      expect(await run(missing, 'webhooks:retry-failed', '--endpoint', '999999')).toBe(1);
      expect(missing.err()).toBe('error: no webhook endpoint 999999\n');
      for (const bad of ['0', 'x', '-1']) {
        const io = fakeCliIo();
        expect(await run(io, 'webhooks:retry-failed', '--endpoint', bad), bad).toBe(1);
        expect(io.err(), bad).toMatch(/^error: option '--endpoint <id>' argument '.+' is invalid/);
      }
      expect(await queuedJobs()).toBe(0);
    });
  });
});
