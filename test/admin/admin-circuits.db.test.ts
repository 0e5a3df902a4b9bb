import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVerboseOption, runProgram } from '../../src/platform/cli/run-program.js';
import { registerCircuitsCommands } from '../../src/platform/outbound/circuits.cli.js';
import { CircuitsService } from '../../src/platform/outbound/circuits.service.js';
import { openCircuit, pauseUntil } from '../../src/platform/outbound/destinations.repository.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { fakeCliIo } from '../support/fake-cli-io.js';
import { parsePrometheus } from '../support/prometheus.js';

describe('the circuits of the outbound destinations, for operators', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    const operator = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = await t.user('customer');
    const db = t.container.database.db;
    const now = t.clock.now();
    await openCircuit(db, 'third-party', 5_000, 'third party unreachable: connect ECONNREFUSED', now);
    await pauseUntil(db, 'webhook:7', now + 30_000, now);
    await pauseUntil(db, 'image-host:old.example.test', now - 60_000, now - 120_000);
  });
  afterAll(() => t.close());

  const circuitState = async (destination: string) => parsePrometheus(await t.container.metrics.text()).get(`circuit_state{destination=${destination},role=api}`);
  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const force = (destination: string, state: string, headers = admin) => t.inject({ method: 'POST', url: `/api/admin/circuits/${encodeURIComponent(destination)}/force`, headers, payload: { state } });

  it('lists them a page at a time, open first, then paused, to operators only', async () => {
    expect((await get('/api/admin/circuits', customer.auth)).statusCode).toBe(403);
    expect((await get('/api/admin/circuits', {})).statusCode).toBe(401);
    const response = await get('/api/admin/circuits?per_page=2');
    expect(response.statusCode).toBe(200);
    const body = response.json<{ data: Array<Record<string, unknown>>; meta: { total: number } }>();
    expect(body.meta.total).toBe(3);
    expect(body.data.map((c) => [c.destination, c.state])).toEqual([
      ['third-party', 'open'],
      ['webhook:7', 'closed'],
    ]);
    expect(body.data[0]).toMatchObject({ forced: null, cooldown_ms: 5_000, open_until: t.clock.now() + 5_000, last_failure: 'third party unreachable: connect ECONNREFUSED' });
    expect(body.data[1]).toMatchObject({ paused_until: t.clock.now() + 30_000 });
    expect((await get('/api/admin/circuits?page=2&per_page=2')).json<{ data: Array<{ destination: string; paused_until: number | null }> }>().data).toEqual([
      expect.objectContaining({ destination: 'image-host:old.example.test', paused_until: null }),
    ]);
  });

  it('forces a circuit open or closed and gives it back, and shows it in circuit_state', async () => {
    expect((await force('webhook:12', 'open')).json()).toMatchObject({ circuit: { destination: 'webhook:12', state: 'open', forced: 'open' } });
    expect((await get('/api/admin/circuits/webhook%3A12')).json()).toMatchObject({ circuit: { state: 'open' } });
    expect(await circuitState('webhook:12')).toBe(1);
    expect((await force('third-party', 'closed')).json()).toMatchObject({ circuit: { state: 'closed', forced: 'closed', opened_at: null } });
    expect(await circuitState('third-party')).toBe(0);
    expect((await force('third-party', 'auto')).json()).toMatchObject({ circuit: { state: 'closed', forced: null } });
  });

  it('shows in the queue list why the queue of a held destination claims nothing, and until when', async () => {
    const heldOf = async (queue: string) => (await get('/api/admin/queues')).json<{ data: Array<{ queue: string; held: unknown }> }>().data.find((q) => q.queue === queue)!.held;
    const db = t.container.database.db;
    await force('third-party', 'auto');
    expect(await heldOf('orders.integration')).toBeNull();
    const now = t.clock.now();
    await openCircuit(db, 'third-party', 5_000, 'connect ECONNREFUSED', now);
    const open = (await heldOf('orders.integration')) as { destination: string; reason: string; until: number };
    expect(open).toMatchObject({ destination: 'third-party', reason: 'circuit_open' });
    // On the grid the held jobs wake on.
    expect(open.until - (now + 5_000)).toBeGreaterThanOrEqual(0);
    expect(open.until - (now + 5_000)).toBeLessThan(250);
    await force('third-party', 'open');
    expect(await heldOf('orders.integration')).toEqual({ destination: 'third-party', reason: 'forced_open', until: null });
    // Webhook deliveries and image downloads serve many destinations: a queue is never held for one of them.
    await force('webhook:7', 'open');
    expect(await heldOf('webhooks.delivery')).toBeNull();
    await force('third-party', 'closed');
    expect(await heldOf('orders.integration')).toBeNull();
    await force('third-party', 'auto');
    await force('webhook:7', 'auto');
  });

  it('refuses a bad state, a destination with spaces and an unknown one with 4xx', async () => {
    expect((await force('third-party', 'sideways')).statusCode).toBe(422);
    expect((await force('third party', 'open')).statusCode).toBe(422);
    expect((await get('/api/admin/circuits/nowhere')).statusCode).toBe(404);
    expect((await force('webhook:1', 'open', customer.auth)).statusCode).toBe(403);
  });

  describe('CLI', () => {
    async function run(...args: string[]) {
      const io = fakeCliIo();
      const program = addVerboseOption(new Command('intake'));
      registerCircuitsCommands(program, (work) => work(new CircuitsService({ database: t.container.database, clock: t.clock })), io);
      const code = await runProgram(program, args, io, 'user');
      return { code, stdout: io.out(), stderr: io.err() };
    }

    it('circuits:force and circuits:list', async () => {
      expect(await run('circuits:force', 'image-host:cdn.example.test', 'open')).toMatchObject({ code: 0, stdout: 'image-host:cdn.example.test: forced open\n' });
      const listed = await run('circuits:list');
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n')[1]).toMatch(/^image-host:cdn\.example\.test\s+open \(forced\)/);
      const json = JSON.parse((await run('circuits:list', '--json')).stdout) as Array<{ destination: string; state: string }>;
      expect(json.find((c) => c.destination === 'image-host:cdn.example.test')).toMatchObject({ state: 'open', forced: 'open' });
      expect(await run('circuits:force', 'image-host:cdn.example.test', 'auto')).toMatchObject({ code: 0, stdout: 'image-host:cdn.example.test: given back to its breaker, now closed\n' });
      expect((await run('circuits:force', 'third-party', 'sideways')).code).not.toBe(0);
    });
  });
});
