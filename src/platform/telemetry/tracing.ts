import type * as OtelApi from '@opentelemetry/api';
import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify';

type HttpPlugin = FastifyPluginAsync | FastifyPluginCallback;

/**
 * Tracing is loaded only where it is switched on (`useTracing`, called by `startTracing`): the
 * OpenTelemetry packages cost tens of megabytes and hundreds of milliseconds at start, which a
 * process that exports no span should not pay. Until then every helper here is a no-op.
 */
let otel: typeof OtelApi | undefined;
let httpTracing: HttpPlugin | undefined;

/** Switches tracing on with the OpenTelemetry API (whose provider is registered) and the Fastify plugin that traces HTTP requests. */
export function useTracing(api: typeof OtelApi, httpPlugin?: HttpPlugin): void {
  otel = api;
  httpTracing = httpPlugin;
}

/** The plugin `buildApp` registers first, when tracing is on. */
export function httpTracingPlugin(): HttpPlugin | undefined {
  return httpTracing;
}

/** The values of OpenTelemetry's SpanKind. */
export const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;
type Kind = (typeof SpanKind)[keyof typeof SpanKind];

/** True while a recording span is active: its context travels in `traceparent` headers by itself. */
export function isTracing(): boolean {
  return otel?.trace.getActiveSpan()?.isRecording() ?? false;
}

/** The active span's W3C `traceparent`, or undefined when no span is active. */
export function activeTraceparent(): string | undefined {
  if (!otel) return undefined;
  const carrier: Record<string, string> = {};
  otel.propagation.inject(otel.context.active(), carrier);
  return carrier.traceparent;
}

/** `trace_id` and `span_id` of the active span, for log lines. */
export function activeSpanIds(): { trace_id: string; span_id: string } | undefined {
  const span = otel?.trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The active trace context, to resume later with `withContext`; undefined while tracing is off. */
export function captureContext(): OtelApi.Context | undefined {
  return otel?.context.active();
}

/** Runs `work` in a context captured earlier, rather than in whatever context calls it. */
export function withContext<T>(context: OtelApi.Context | undefined, work: () => T): T {
  return otel && context ? otel.context.with(context, work) : work();
}

export interface SpanOptions {
  kind?: Kind;
  attributes?: OtelApi.Attributes;
  /** A `traceparent` to continue (a job's headers); otherwise the active span is the parent. */
  traceparent?: string;
}

export interface SpanHandle {
  setAttributes(attributes: OtelApi.Attributes): void;
}

const NO_SPAN: SpanHandle = { setAttributes: () => undefined };

/** Runs `work` inside a new span, which records an exception and an error status when `work` throws. */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: SpanHandle) => Promise<T>): Promise<T> {
  const api = otel;
  if (!api) return work(NO_SPAN);
  const parent = options.traceparent ? api.propagation.extract(api.context.active(), { traceparent: options.traceparent }) : api.context.active();
  return api.trace.getTracer('intake').startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
