import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { fastifyTracing } from './tracing.js';

export interface TracingSettings {
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT; without it nothing is traced or exported. */
  endpoint: string | undefined;
}

export interface Tracing {
  /** Exports the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK with the OTLP/HTTP exporter and the instrumentations of the
 * libraries intake talks through (HTTP server, PostgreSQL, Redis, RabbitMQ, outbound HTTP). It must
 * run before those libraries are loaded, which is why the entry points import it first.
 */
export function startTracing(settings: TracingSettings): Tracing | undefined {
  if (!settings.endpoint) return undefined;
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [fastifyTracing, new PgInstrumentation(), new IORedisInstrumentation(), new AmqplibInstrumentation(), new UndiciInstrumentation()],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
