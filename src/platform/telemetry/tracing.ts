import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

export { SpanKind };

/** HTTP server spans for every Fastify app (registered first by `buildApp`); no-op until a tracer provider is registered. */
export const fastifyTracing = new FastifyOtelInstrumentation({ instrumentHooks: false });

const tracer = () => trace.getTracer('intake');

/** True while a recording span is active: its context travels in `traceparent` headers by itself. */
export function isTracing(): boolean {
  return trace.getActiveSpan()?.isRecording() ?? false;
}

/** The active span's W3C `traceparent`, or undefined when no span is active. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** A `traceparent` to continue (a job's headers); otherwise the active span is the parent. */
  traceparent?: string;
}

/** Runs `work` inside a new span, which records an exception and an error status when `work` throws. */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.traceparent ? propagation.extract(context.active(), { traceparent: options.traceparent }) : context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
