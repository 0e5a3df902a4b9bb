import http from 'node:http';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorFor } from '../../src/app/api-app.js';
import { MAX_META_DEPTH } from '../../src/orders/orders.validation.js';
import { MAX_JSON_DEPTH } from '../../src/platform/json-depth.js';
import { createTestApp, item, orderWith, type TestApp, type TestUser } from '../support/app.js';
import { listenOnLoopback, send } from '../support/raw-http.js';

/**
 * Bodies built to cost the server: a megabyte of nested arrays takes `JSON.parse` about 300 ms of
 * event loop, and a few thousand levels overflow any recursive walk. None may reach a parse without
 * a token, none may be parsed past the depth bound, and none may be a 500.
 */

/** 500,000 nested arrays: a megabyte of valid JSON. */
const NESTED = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
const json = { 'content-type': 'application/json' };

let t: TestApp;
let u: TestUser;
let api: string;
let simulator: string;

beforeAll(async () => {
  t = await createTestApp({ env: { SIMULATOR_DELAY_MS: '0', SIMULATOR_FAILURE_RATE: '0' }, simulator: simulatorFor });
  u = await t.user('hostile');
  api = (await listenOnLoopback(t.app)).origin;
  simulator = (await listenOnLoopback(t.simulator!)).origin;
});
afterAll(() => t.close());

interface Attack {
  url: string;
  headers: Record<string, string>;
}

/**
 * An attacker on a worker thread, so that its own work (a megabyte written per request) is not
 * counted against the server's event loop. Started once: each `attack()` sends every request at
 * once; `sending` resolves as they go out, `statuses` when every one is answered.
 */
class Attacker {
  private readonly worker: Worker;

  constructor(attacks: Attack[]) {
    const code = `
      const http = require('node:http');
      const { parentPort, workerData } = require('node:worker_threads');
      const body = Buffer.from('['.repeat(500000) + ']'.repeat(500000));
      const one = ({ url, headers }) => new Promise((resolve) => {
        const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
          res.on('error', () => resolve(res.statusCode));
        });
        req.on('error', (error) => resolve(error.code || 'error'));
        req.end(body);
      });
      parentPort.on('message', () => {
        parentPort.postMessage('sending');
        Promise.all(workerData.map(one)).then((statuses) => parentPort.postMessage(statuses));
      });
    `;
    this.worker = new Worker(code, { eval: true, workerData: attacks });
  }

  attack(): { sending: Promise<void>; statuses: Promise<Array<number | string>> } {
    const sending = this.next((message) => message === 'sending').then(() => undefined);
    const statuses = this.next(Array.isArray) as Promise<Array<number | string>>;
    this.worker.postMessage('go');
    return { sending, statuses };
  }

  private next(wanted: (message: unknown) => boolean): Promise<unknown> {
    return new Promise((resolve) => {
      const listener = (message: unknown) => {
        if (!wanted(message)) return;
        this.worker.off('message', listener);
        resolve(message);
      };
      this.worker.on('message', listener);
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** `meta` nested `levels` deep: {"a":{"a":…{}}}. */
const nestedMeta = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`) as Record<string, unknown>;

describe('hostile bodies', () => {
  it('10 megabyte bodies of nested arrays in parallel, without a token or to the simulator, keep /health answering under 50 ms', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await send(`${api}/health`, { agent });
    const attacker = new Attacker([
      ...Array.from({ length: 4 }, () => ({ url: `${api}/api/orders`, headers: json })),
      ...Array.from({ length: 3 }, () => ({ url: `${api}/api/orders`, headers: { ...json, ...u.auth } })),
      ...Array.from({ length: 3 }, () => ({ url: `${simulator}/simulator/orders`, headers: json })),
    ]);
    /** The slowest of `count` (at least) /health probes sent one after another, and of any sent until `done()`. */
    const slowestProbe = async (count: number, done = () => true) => {
      let slowest = 0;
      for (let probes = 0; (!done() || probes < count) && probes < 500; probes++) {
        const probe = await send(`${api}/health`, { agent });
        expect(probe.status).toBe(200);
        slowest = Math.max(slowest, probe.ms);
      }
      return slowest;
    };
    const attempt = async () => {
      const quiet = await slowestProbe(10);
      const attack = attacker.attack();
      let done = false;
      const answered = attack.statuses.finally(() => (done = true));
      await attack.sending;
      const attacked = await slowestProbe(10, () => done);
      const statuses = await answered;
      expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
      expect(statuses.slice(4, 7)).toEqual([400, 400, 400]);
      for (const status of statuses.slice(7)) expect([413, 'EPIPE', 'ECONNRESET']).toContain(status);
      return { quiet: Math.round(quiet), attacked: Math.round(attacked) };
    };
    // Under 50 ms, or under 50 ms more than the same probes just before when the machine itself is
    // that slow (it is shared: a loaded one stalls any process now and then); the best of five
    // attempts counts. Before the fix, one probe waited for every parse: 1 to 3 s.
    const passed = ({ quiet, attacked }: { quiet: number; attacked: number }) => attacked < Math.max(50, quiet + 50);
    try {
      const attempts: Array<{ quiet: number; attacked: number }> = [];
      for (let i = 0; i < 5 && !attempts.some(passed); i++) attempts.push(await attempt());
      expect(attempts.some(passed), `slowest /health probe, without and with the attack: ${JSON.stringify(attempts)}`).toBe(true);
    } finally {
      agent.destroy();
      await attacker.stop();
    }
  });

  it(`answers 400 to a body nested deeper than ${MAX_JSON_DEPTH} levels, and parses one just within`, async () => {
    const deep = await t.postOrder(u, NESTED.slice(0, 200).concat(NESTED.slice(-200)), json);
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toEqual({ message: `The request body must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep.` });
    // The order itself is 4 levels deep ({ contents: [ { meta: … } ] }): meta may nest 60 more.
    const within = await t.postOrder(u, orderWith(item({ meta: nestedMeta(MAX_JSON_DEPTH - 3) })));
    expect(within.statusCode).toBe(422);
    expect(within.json<{ errors: Record<string, string[]> }>().errors).toEqual({
      'contents.0.meta': [`The contents.0.meta field must not nest arrays and objects more than ${MAX_META_DEPTH} levels deep.`],
    });
    const beyond = await t.postOrder(u, orderWith(item({ meta: nestedMeta(MAX_JSON_DEPTH - 2) })));
    expect(beyond.statusCode).toBe(400);
  });

  it('answers 400, not 500, to an order whose meta nests 5,000 levels (30 KB)', async () => {
    const payload = `{"client":{"identity":"A","contact_point":"B"},"contents":[{"label":"L","kind":"single","cost":1,"meta":${'{"a":'.repeat(4999)}{}${'}'.repeat(4999)}}]}`;
    const res = await t.postOrder(u, payload, json);
    expect(res.statusCode).toBe(400);
    const keyed = await t.postOrder(u, payload, { ...json, 'idempotency-key': 'deep-meta' });
    expect(keyed.statusCode).toBe(400);
  });

  it(`answers 422 to meta nested ${MAX_META_DEPTH + 1} levels, and stores meta nested ${MAX_META_DEPTH}`, async () => {
    const deep = await t.postOrder(u, orderWith(item({ meta: nestedMeta(MAX_META_DEPTH + 1) })), { 'idempotency-key': 'meta-33' });
    expect(deep.statusCode).toBe(422);
    expect(Object.keys(deep.json<{ errors: Record<string, string[]> }>().errors)).toEqual(['contents.0.meta']);
    const fine = await t.postOrder(u, orderWith(item({ label: 'deep enough', meta: nestedMeta(MAX_META_DEPTH) })), { 'idempotency-key': 'meta-32' });
    expect(fine.statusCode).toBe(201);
  });

  it('refuses an auth body of more than SMALL_BODY_LIMIT_BYTES with 413', async () => {
    const padding = 'x'.repeat(t.config.smallBodyLimitBytes);
    for (const url of ['/api/register', '/api/login']) {
      const res = await t.inject({ method: 'POST', url, headers: json, payload: JSON.stringify({ email: 'a@b.test', password: padding }) });
      expect(res.statusCode, url).toBe(413);
    }
    const logout = await t.inject({ method: 'POST', url: '/api/logout', headers: { ...json, ...u.auth }, payload: JSON.stringify({ padding }) });
    expect(logout.statusCode).toBe(413);
  });
});
