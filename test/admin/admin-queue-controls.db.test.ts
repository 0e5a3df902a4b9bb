import { Command } from 'commander';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priorityName } from '../../src/orders/priority.js';
import { addVerboseOption, runProgram } from '../../src/platform/cli/run-program.js';
import { registerJobsCommands } from '../../src/platform/queue/jobs.cli.js';
import { registerQueueControlCommands } from '../../src/platform/queue/queue-controls.cli.js';
import { RunningJobs } from '../../src/platform/queue/running-jobs.js';
import { WorkerHeartbeat } from '../../src/platform/queue/worker-heartbeat.js';
import { QUEUE_NAMES } from '../../src/app/container.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { fakeCliIo } from '../support/fake-cli-io.js';
import { parsePrometheus } from '../support/prometheus.js';

const QUEUE = 'orders.integration';

describe('operator API: pausing queues and the worker processes', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let operatorEmail: string;
  let customer: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp();
    const operator = await t.user('operator');
    operatorEmail = operator.email;
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = (await t.user('customer')).auth;
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const post = (url: string, payload?: unknown, headers = admin) => t.inject({ method: 'POST', url, headers, ...(payload !== undefined && { payload: payload as Record<string, unknown> }) });
  const pausedOf = async (queue: string) => (await get('/api/admin/queues')).json<{ data: Array<{ queue: string; paused: unknown }> }>().data.find((q) => q.queue === queue)!.paused;
  const pausedMetric = async (queue: string) => parsePrometheus(await t.container.metrics.text()).get(`queue_paused{queue=${queue},role=api}`);

  it('needs a token with the admin ability on every route', async () => {
    for (const [method, url] of [
      ['POST', `/api/admin/queues/${QUEUE}/pause`],
      ['POST', `/api/admin/queues/${QUEUE}/resume`],
      ['GET', '/api/admin/workers'],
    ] as const) {
      expect((await t.inject({ method, url })).statusCode, url).toBe(401);
      expect((await t.inject({ method, url, headers: customer })).statusCode, url).toBe(403);
    }
    expect(await t.container.queuePauses.get(QUEUE)).toBeNull();
  });

  it('pauses a queue for its operator, keeps the first pause when asked again, shows it in the queue list and queue_paused, and resumes it', async () => {
    expect(await pausedMetric(QUEUE)).toBe(0);
    const pausedAt = t.clock.now();
    const paused = await post(`/api/admin/queues/${QUEUE}/pause`, { reason: '  third party migrating  ' });
    expect(paused.statusCode, paused.body).toBe(200);
    const pause = { at: pausedAt, by: operatorEmail, reason: 'third party migrating' };
    expect(paused.json()).toEqual({ queue: QUEUE, paused: pause, changed: true });

    t.clock.advance(1_000);
    expect((await post(`/api/admin/queues/${QUEUE}/pause`)).json()).toEqual({ queue: QUEUE, paused: pause, changed: false });
    expect(await pausedOf(QUEUE)).toEqual(pause);
    expect(await pausedOf('images.download')).toBeNull();
    expect(await pausedMetric(QUEUE)).toBe(1);
    expect(await pausedMetric('images.download')).toBe(0);

    expect((await post(`/api/admin/queues/${QUEUE}/resume`)).json()).toEqual({ queue: QUEUE, paused: null, changed: true });
    expect((await post(`/api/admin/queues/${QUEUE}/resume`)).json()).toEqual({ queue: QUEUE, paused: null, changed: false });
    expect(await pausedOf(QUEUE)).toBeNull();
    expect(await pausedMetric(QUEUE)).toBe(0);
  });

  it('pauses with an empty body or an empty reason, as the dashboard sends them', async () => {
    expect((await post('/api/admin/queues/images.download/pause', {})).json()).toMatchObject({ paused: { reason: null }, changed: true });
    expect((await post('/api/admin/queues/images.download/resume', {})).json()).toMatchObject({ changed: true });
    expect((await post('/api/admin/queues/images.download/pause', { reason: ' ' })).json()).toMatchObject({ paused: { reason: null } });
    await post('/api/admin/queues/images.download/resume');
  });

  it('answers 404 for a queue it does not know and 422 for a malformed reason, changing nothing', async () => {
    expect((await post('/api/admin/queues/no.such.queue/pause', {})).statusCode).toBe(404);
    expect((await post('/api/admin/queues/no.such.queue/resume')).statusCode).toBe(404);
    for (const body of [{ reason: 'x'.repeat(501) }, { reason: 7 }, { reason: 'a\u0000b' }, { reason: '\ud800' }, { why: 'no' }, ['reason']]) {
      const response = await post(`/api/admin/queues/${QUEUE}/pause`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(typeof response.json<{ message: unknown }>().message).toBe('string');
    }
    expect(await t.container.queuePauses.get(QUEUE)).toBeNull();
  });

  it('lists the worker processes a page at a time, alive first, with the jobs each runs now', async () => {
    expect((await get('/api/admin/workers')).json()).toMatchObject({ data: [], meta: { total: 0 } });
    const running = new RunningJobs(t.clock);
    running.started({ queue: QUEUE, id: '17', attempt: 2 });
    const beat = (everyMs: number) =>
      new WorkerHeartbeat({ database: t.container.database, clock: t.clock, logger: pino({ level: 'silent' }), everyMs, role: 'worker', version: '1.2.3', queues: [{ queue: QUEUE, concurrency: 8 }], running });
    const crashed = beat(60_000);
    await crashed.start();
    await crashed.stop();
    await crashed.start();
    t.clock.advance(200_000);
    const alive = beat(60_000);
    await alive.start();

    const first = await get('/api/admin/workers?per_page=1');
    expect(first.statusCode).toBe(200);
    const body = first.json<{ data: Array<Record<string, unknown>>; links: { next: string | null }; meta: { total: number } }>();
    expect(body.meta.total).toBe(2);
    expect(body.data).toEqual([
      expect.objectContaining({ id: alive.id, role: 'worker', version: '1.2.3', alive: true, queues: [{ queue: QUEUE, concurrency: 8 }], running: [{ queue: QUEUE, id: '17', attempt: 2, startedAt: t.clock.now() - 200_000 }], runningCount: 1 }),
    ]);
    expect(body.links.next).toBe('/api/admin/workers?page=2&per_page=1');
    expect((await get(body.links.next!)).json<{ data: Array<{ id: string; alive: boolean }> }>().data).toEqual([expect.objectContaining({ id: crashed.id, alive: false })]);
    expect((await get('/api/admin/workers?per_page=101')).statusCode).toBe(422);
    await alive.stop();
    await crashed.stop();
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { summary?: string }>> }>();
    expect(doc.paths['/api/admin/queues/{queue}/pause']?.post?.summary).toMatch(/^Pauses a queue/);
    expect(doc.paths['/api/admin/queues/{queue}/resume']?.post?.summary).toMatch(/^Resumes a paused queue/);
    expect(doc.paths['/api/admin/workers']?.get?.summary).toMatch(/^The processes that run workers/);
  });

  describe('CLI', () => {
    async function run(...args: string[]) {
      const io = fakeCliIo({ columns: 200 });
      const program = addVerboseOption(new Command('intake'));
      const { queue, queuePauses, workerProcesses } = t.container;
      registerJobsCommands(program, { queueNames: QUEUE_NAMES, priorityName }, (work) => work(queue, queuePauses), io);
      registerQueueControlCommands(program, { queueNames: QUEUE_NAMES }, (work) => work({ pauses: queuePauses, workers: workerProcesses }), io);
      const code = await runProgram(program, args, io, 'user');
      return { code, stdout: io.out(), stderr: io.err() };
    }

    it('jobs:pause and jobs:resume, by `cli`, shown by jobs:stats', async () => {
      const at = new Date(t.clock.now()).toISOString();
      expect(await run('jobs:pause', QUEUE, '--reason', 'deploying')).toMatchObject({ code: 0, stdout: `${QUEUE}: paused; every worker stops claiming its jobs within QUEUE_PAUSE_POLL_MS\n` });
      expect(await run('jobs:pause', QUEUE)).toMatchObject({ code: 0, stdout: `${QUEUE}: already paused since ${at} by cli (deploying)\n` });
      expect((await run('jobs:stats')).stdout).toContain(`${QUEUE}: ready=0 delayed=0 active=0 parked=0, paused since ${at} by cli (deploying)\n`);
      const json = JSON.parse((await run('jobs:stats', '--json')).stdout) as Array<{ queue: string; paused: unknown }>;
      expect(json.find((q) => q.queue === QUEUE)?.paused).toEqual({ at: t.clock.now(), by: 'cli', reason: 'deploying' });
      expect(json.find((q) => q.queue === 'images.download')?.paused).toBeNull();
      expect(await run('jobs:resume', QUEUE)).toMatchObject({ code: 0, stdout: `${QUEUE}: resumed\n` });
      expect(JSON.parse((await run('jobs:resume', QUEUE, '--json')).stdout)).toEqual({ queue: QUEUE, paused: null, changed: false });
      const unknown = await run('jobs:pause', 'no.such.queue');
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("'no.such.queue' is invalid");
    });

    it('workers:list', async () => {
      expect(await run('workers:list')).toMatchObject({ code: 0, stdout: 'no worker process has been seen within the last hour\n' });
      const running = new RunningJobs(t.clock);
      running.started({ queue: QUEUE, id: '5', attempt: 1 });
      const beating = new WorkerHeartbeat({ database: t.container.database, clock: t.clock, logger: pino({ level: 'silent' }), everyMs: 2_000, role: 'all', version: '1.2.3', queues: [], running });
      await beating.start();
      const listed = await run('workers:list');
      expect(listed.stdout.split('\n')[0]).toMatch(/^id\s+role\s+state\s+started\s+last seen\s+running\s+running now$/);
      expect(listed.stdout.split('\n')[1]).toMatch(new RegExp(`^${beating.id}\\s+all\\s+alive\\s.*\\s1\\s+${QUEUE}#5$`));
      expect(JSON.parse((await run('workers:list', '--json')).stdout)).toEqual([expect.objectContaining({ id: beating.id, runningCount: 1 })]);
      await beating.stop();
    });
  });
});
