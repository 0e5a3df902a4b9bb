import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry, type Container } from '../../../src/app/container.js';
import type { Worker } from '../../../src/platform/queue/queue.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { startFakeThirdParty, type FakeThirdParty } from '../../orders/fake-third-party.js';
import { createTestApp, item, orderWith, type TestApp } from '../../support/app.js';
import { waitFor } from '../../support/driver-wait.js';
import { captureLogs } from '../../support/log-capture.js';
import type { TraceRecorder } from '../../support/trace-recorder.js';

const JOB = 'orders.integration';

/** How a queue driver is set up for the trace test, and the spans it adds to the job's path. */
export interface TracedQueue {
  /** The app's environment: the driver and its settings. */
  env: Record<string, string>;
  /** Starts what moves committed jobs besides the workers (the outbox relay); returns its stop. */
  startRelay?(container: Container): () => Promise<void>;
  /** Spans the job passes through between the enqueue and its handler, in causal order. */
  hops: string[];
  /** Spans of instrumented libraries that must join the trace, each under the span it names. */
  librarySpans: Array<{ name: string; under: string }>;
  /** Runs after the app closed, e.g. to delete broker queues. */
  cleanup?(): Promise<void>;
}

/**
 * One POST /api/orders with a recurring item yields one trace: the HTTP server span, the enqueue
 * (producer), the driver's hops, the job handler (consumer) and the third-party call, each
 * under the one before, and no span of the job in any other trace.
 */
export function orderTraceContract(title: string, traces: TraceRecorder, queue: TracedQueue): void {
  describe(title, () => {
    let t: TestApp;
    let thirdParty: FakeThirdParty;
    const stops: Array<() => Promise<void>> = [];
    const logs = captureLogs();

    beforeAll(async () => {
      t = await createTestApp({ env: queue.env, logger: createLogger({ level: 'info', role: 'test', destination: logs.destination }) });
      thirdParty = await startFakeThirdParty();
      if (queue.startRelay) stops.push(queue.startRelay(t.container));
      const jobs = createJobRegistry(t.container, thirdParty.url);
      const workers: Worker[] = jobs.registry.start(t.container.queue, { concurrency: 1 });
      stops.unshift(async () => {
        await Promise.all(workers.map((w) => w.stop(0)));
        await jobs.close();
      });
    });
    afterAll(async () => {
      for (const stop of stops) await stop();
      await t?.close();
      await queue.cleanup?.();
      await thirdParty?.close();
      await traces.shutdown();
    });

    it('puts the HTTP span, the enqueue, every hop, the job handler and the third-party call in one trace, and no span in another', async () => {
      const user = await t.user();
      const response = await t.postOrder(user, orderWith(item({ kind: 'recurring', label: 'traced' })));
      expect(response.statusCode).toBe(201);
      await waitFor(() => thirdParty.received.length === 1, 10_000, 'the third-party call');
      const awaited = [`process ${JOB}`, ...queue.hops, ...queue.librarySpans.map((s) => s.name)];
      const ended = () => traces.spans().map((s) => s.name);
      await waitFor(() => awaited.every((name) => ended().includes(name)), 5_000, `the spans ${awaited.join(', ')} to end`).catch((error: Error) => {
        throw new Error(`${error.message}; ended: ${ended().join(', ')}`);
      });

      const spans = traces.spans();
      const find = (what: string, predicate: (span: ReadableSpan) => boolean) => {
        const found = spans.find(predicate);
        if (!found) throw new Error(`no ${what} span among: ${spans.map((s) => s.name).join(', ')}`);
        return found;
      };
      const named = (name: string) => find(name, (s) => s.name === name);
      const server = find('HTTP server', (s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/orders');
      const call = find('third-party call', (s) => s.name === 'POST' && String(s.attributes['url.full'] ?? '').startsWith(thirdParty.url));
      const handler = named(`process ${JOB}`);

      const traceId = server.spanContext().traceId;
      expect(spansByTrace(spans), "every span belongs to the order's trace").toEqual({ [traceId]: spans.map((s) => s.name).sort() });
      const path = [server, named(`enqueue ${JOB}`), ...queue.hops.map(named), handler, call];
      for (let i = 1; i < path.length; i++) expectUnder(spans, path[i]!, path[i - 1]!);
      for (const { name, under } of queue.librarySpans) expectUnder(spans, named(name), named(under));
      expect(call.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);

      // The third party receives the call span's context, and the handler's log lines name the trace.
      expect(String(thirdParty.received[0]!.headers.traceparent)).toBe(`00-${traceId}-${call.spanContext().spanId}-01`);
      expect(logs.records().some((line) => line.trace_id === traceId)).toBe(true);
    });
  });
}

function spansByTrace(spans: ReadableSpan[]): Record<string, string[]> {
  const byTrace: Record<string, string[]> = {};
  for (const span of spans) (byTrace[span.spanContext().traceId] ??= []).push(span.name);
  for (const names of Object.values(byTrace)) names.sort();
  return byTrace;
}

/** `span` descends from `ancestor` through recorded spans. */
function expectUnder(spans: ReadableSpan[], span: ReadableSpan, ancestor: ReadableSpan): void {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const chain = [span.name];
  for (let parent = span.parentSpanContext?.spanId; parent !== undefined; parent = byId.get(parent)?.parentSpanContext?.spanId) {
    if (parent === ancestor.spanContext().spanId) return;
    chain.push(byId.get(parent)?.name ?? `(unrecorded ${parent})`);
  }
  expect.fail(`"${span.name}" is not under "${ancestor.name}"; its ancestors: ${chain.join(' < ')}`);
}
