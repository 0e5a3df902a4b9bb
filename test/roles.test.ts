import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, MAIN_JS, spawnNode, waitUntilServing, type ManagedProcess } from './support/processes.js';

/** An api process and a worker process on one DATA_DIR share the SQLite database and its queue. */
describe('split roles on the embedded default', () => {
  let dataDir: string;
  const processes: ManagedProcess[] = [];
  let api: string;
  let simulator: string;
  let workerOps: string;

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-roles-'));
    const [apiPort, simulatorPort, opsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    api = `http://127.0.0.1:${apiPort}`;
    simulator = `http://127.0.0.1:${simulatorPort}`;
    workerOps = `http://127.0.0.1:${opsPort}`;
    const common = { DATA_DIR: dataDir, LOG_LEVEL: 'warn', FEED_INGEST_ON_START: 'false', JOB_BACKOFF_MS: '20', JOB_BACKOFF_MAX_MS: '100' };
    const start = async (role: string, env: Record<string, string>, readyUrl: string) => {
      const started = spawnNode(role, MAIN_JS, { ...common, ROLE: role, ...env });
      processes.push(started);
      await waitUntilServing(started, readyUrl);
    };
    await start('simulator', { PORT: String(simulatorPort), SIMULATOR_DELAY_MS: '5-20', SIMULATOR_FAILURE_RATE: '0' }, `${simulator}/health`);
    await start('api', { PORT: String(apiPort) }, `${api}/ready`);
    await start('worker', { METRICS_PORT: String(opsPort), THIRD_PARTY_URL: `${simulator}/simulator/orders` }, `${workerOps}/ready`);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the api role stores and enqueues, the worker role delivers', async () => {
    const registered = await fetch(`${api}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'R', email: 'r@example.com', password: 'secret123', password_confirmation: 'secret123' }),
    });
    const { token } = (await registered.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const posted = await fetch(`${api}/api/orders`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ client: { identity: 'ACME', contact_point: 'ops@acme.test' }, contents: [{ label: 'Plan', kind: 'recurring', cost: 10, meta: { priority: 'max' } }] }),
    });
    expect(posted.status).toBe(201);
    const { order } = (await posted.json()) as { order: { id: number; contents: Array<{ id: number }> } };
    const itemId = order.contents[0]!.id;

    let status = '';
    for (let i = 0; i < 150 && status !== 'completed'; i++) {
      const read = (await (await fetch(`${api}/api/orders/${order.id}`, { headers: auth })).json()) as { order: { contents: Array<{ status: string }> } };
      status = read.order.contents[0]!.status;
      if (status !== 'completed') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('completed');
    const stats = (await (await fetch(`${simulator}/simulator/stats?keys=true`)).json()) as { keys: Record<string, { applied: number }> };
    expect(stats.keys[`order-item-${itemId}`]).toEqual({ received: 1, applied: 1 });
  });

  it('the api role serves no simulator and the worker role no public API', async () => {
    expect((await fetch(`${api}/simulator/stats`)).status).toBe(404);
    expect((await fetch(`${workerOps}/api/orders`)).status).toBe(404);
    expect((await fetch(`${workerOps}/health`)).status).toBe(200);
  });
});
