import { FastifyOtelInstrumentation } from '@fastify/otel';
import * as api from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { useTracing } from '../../src/platform/telemetry/tracing.js';

export interface TraceRecorder {
  /** Every span ended so far in this test process. */
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

/**
 * Switches tracing on for this test process, as `startTracing` does in production, with the spans
 * kept in memory: HTTP requests (@fastify/otel), outbound calls (undici) and RabbitMQ (amqplib).
 * amqplib is patched as it loads: call this before importing anything that loads it.
 */
export function recordTraces(): TraceRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const http = new FastifyOtelInstrumentation({ instrumentHooks: false });
  registerInstrumentations({ tracerProvider: provider, instrumentations: [http, new UndiciInstrumentation(), new AmqplibInstrumentation()] });
  useTracing(api, http.plugin());
  return { spans: () => exporter.getFinishedSpans(), shutdown: () => provider.shutdown() };
}
