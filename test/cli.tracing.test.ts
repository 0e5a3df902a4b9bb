import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase } from './support/driver-databases.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { assertBuilt, CLI_JS, freePort, killAll, MAIN_JS, spawnNode, waitUntilServing } from './support/processes.js';
import { describeWithServices, serviceUrls } from './support/services.js';

/** A collector stand-in and a data directory for the processes of one describe block; `env` is a traced process's environment on `port`. */
function useCollector(): { collector: () => OtlpReceiver; env: (port: number) => Record<string, string> } {
  let dataDir: string;
  let collector: OtlpReceiver;
  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-tracing-'));
    collector = await startOtlpReceiver();
  });
  afterAll(async () => {
    await killAll();
    await collector.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const env = (port: number) => ({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    FEED_INGEST_ON_START: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    // No scheduled export during the test: the spans can only arrive through the flush at the stop.
    OTEL_BSP_SCHEDULE_DELAY: '60000',
  });
  return { collector: () => collector, env };
}

describe('intake serve with OTEL_EXPORTER_OTLP_ENDPOINT', { timeout: 60_000 }, () => {
  const traced = useCollector();

  it('traces the role it runs and exports the spans when it stops', async () => {
    const collector = traced.collector();
    const port = await freePort();
    const serve = spawnNode('intake serve', CLI_JS, traced.env(port), ['serve', '--role', 'api']);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilServing(serve, `${baseUrl}/api/v1/health`, 30_000);
    expect((await fetch(`${baseUrl}/api/v1/version`)).status).toBe(200);
    expect(collector.spans).toEqual([]);

    expect(await serve.kill('SIGTERM'), serve.describe()).toEqual({ code: 0, signal: null });
    const version = collector.spans.find((span) => span.attributes['http.route'] === '/api/v1/version');
    expect(version, `exported: ${collector.spans.map((s) => s.name).join(', ')}`).toMatchObject({ service: 'intake-api' });
  });
});

await describeWithServices(['postgres', 'redis'], 'a traced api role on PostgreSQL and Redis', () => {
  const traced = useCollector();

  it('exports the spans of the SQL statements and Redis commands that the app loads through `import`', { timeout: 60_000 }, async () => {
    const collector = traced.collector();
    const port = await freePort();
    const database = await createEmptyDatabase('postgres');
    const api = spawnNode('traced api', MAIN_JS, {
      ...traced.env(port),
      ROLE: 'api',
      DATABASE_URL: database.url,
      STORE_DRIVER: 'redis',
      REDIS_URL: serviceUrls.redis,
      REDIS_KEY_PREFIX: `test-trace-${process.pid}:`,
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilServing(api, `${baseUrl}/ready`, 30_000);
    const registered = await fetch(`${baseUrl}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Traced', email: 'traced@example.test', password: 'correct horse battery', password_confirmation: 'correct horse battery' }),
    });
    expect(registered.status).toBe(201);
    expect(await api.kill('SIGTERM'), api.describe()).toEqual({ code: 0, signal: null });

    const system = (span: (typeof collector.spans)[number]) => span.attributes['db.system'] ?? span.attributes['db.system.name'];
    const names = collector.spans.map((s) => `${s.name} [${String(system(s))}]`).join(', ');
    expect(collector.spans.some((span) => system(span) === 'postgresql' && /insert/i.test(String(span.attributes['db.statement'] ?? span.attributes['db.query.text'] ?? span.name))), names).toBe(true);
    expect(collector.spans.some((span) => system(span) === 'redis'), names).toBe(true);
  });
});
