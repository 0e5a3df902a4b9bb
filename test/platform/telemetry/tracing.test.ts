import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import * as api from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry } from '../../../src/container.js';
import type { Worker } from '../../../src/platform/queue/queue.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { useTracing } from '../../../src/platform/telemetry/tracing.js';
import { startFakeThirdParty, type FakeThirdParty } from '../../orders/fake-third-party.js';
import { createTestApp, item, orderWith, type TestApp } from '../../support/app.js';
import { waitFor } from '../../support/driver-wait.js';
import { captureLogs } from '../../support/log-capture.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const http = new FastifyOtelInstrumentation({ instrumentHooks: false });
registerInstrumentations({ tracerProvider: provider, instrumentations: [new UndiciInstrumentation(), http] });
useTracing(api, http.plugin());

describe('one trace from POST /api/orders to the third party (database queue)', () => {
  let t: TestApp;
  let thirdParty: FakeThirdParty;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;
  const logs = captureLogs();

  beforeAll(async () => {
    t = await createTestApp({ logger: createLogger({ level: 'info', role: 'test', destination: logs.destination }) });
    thirdParty = await startFakeThirdParty();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(0)));
    await closeJobs?.();
    await t.close();
    await thirdParty.close();
    await provider.shutdown();
  });

  it('holds the HTTP span, the enqueue, the job handler and the third-party call', async () => {
    const user = await t.user();
    const response = await t.postOrder(user, orderWith(item({ kind: 'recurring', label: 'traced' })));
    expect(response.statusCode).toBe(201);
    const jobs = createJobRegistry(t.container, thirdParty.url);
    closeJobs = jobs.close;
    workers = jobs.registry.start(t.container.queue, { concurrency: 1 });
    await waitFor(() => thirdParty.received.length === 1, 10_000, 'the third-party call');
    await waitFor(() => exporter.getFinishedSpans().some((s) => s.name === 'process orders.integration'), 5_000, 'the handler span to end');

    const spans = exporter.getFinishedSpans();
    const byName = (predicate: (span: ReadableSpan) => boolean, what: string) => {
      const found = spans.find(predicate);
      if (!found) throw new Error(`no ${what} span among: ${spans.map((s) => s.name).join(', ')}`);
      return found;
    };
    const server = byName((s) => s.kind === api.SpanKind.SERVER && s.attributes['http.route'] === '/api/orders', 'HTTP server');
    const enqueue = byName((s) => s.name === 'enqueue orders.integration', 'enqueue');
    const handler = byName((s) => s.name === 'process orders.integration', 'job handler');
    const call = byName((s) => s.name === 'POST' && String(s.attributes['url.full'] ?? '').startsWith(thirdParty.url), 'third-party call');

    const traceId = server.spanContext().traceId;
    for (const span of [enqueue, handler, call]) expect(span.spanContext().traceId, span.name).toBe(traceId);
    expect(handler.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
    expect(call.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);

    // The third party receives the call span's context, and the handler's log lines name the trace.
    const sent = String(thirdParty.received[0]!.headers.traceparent);
    expect(sent).toBe(`00-${traceId}-${call.spanContext().spanId}-01`);
    expect(logs.records().some((line) => line.trace_id === traceId)).toBe(true);
  });
});


