import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { assertBuilt, CLI_JS, freePort, killAll, spawnNode, waitUntilServing } from './support/processes.js';

describe('intake serve with OTEL_EXPORTER_OTLP_ENDPOINT', { timeout: 60_000 }, () => {
  let dataDir: string;
  let collector: OtlpReceiver;

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-cli-tracing-'));
    collector = await startOtlpReceiver();
  });
  afterAll(async () => {
    await killAll();
    await collector.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('traces the role it runs and exports the spans when it stops', async () => {
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      FEED_INGEST_ON_START: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      // No scheduled export during the test: the spans can only arrive through the flush at the stop.
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    };
    const serve = spawnNode('intake serve', CLI_JS, env, ['serve', '--role', 'api']);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilServing(serve, `${baseUrl}/api/v1/health`, 30_000);
    expect((await fetch(`${baseUrl}/api/v1/version`)).status).toBe(200);
    expect(collector.spans).toEqual([]);

    expect(await serve.kill('SIGTERM'), serve.describe()).toEqual({ code: 0, signal: null });
    const version = collector.spans.find((span) => span.attributes['http.route'] === '/api/v1/version');
    expect(version, `exported: ${collector.spans.map((s) => s.name).join(', ')}`).toMatchObject({ service: 'intake-api' });
  });
});
