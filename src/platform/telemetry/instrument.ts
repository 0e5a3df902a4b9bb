import { register } from 'node:module';
import { useTracing } from './tracing.js';

const SHUTDOWN_MS = 3_000;

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
 * run before those libraries are loaded, which is why the entry point awaits it first. The SDK is
 * loaded only when an endpoint is set.
 */
export async function startTracing(settings: TracingSettings): Promise<Tracing | undefined> {
  if (!settings.endpoint) return undefined;
  const [api, { NodeSDK }, { OTLPTraceExporter }, { FastifyOtelInstrumentation }, pg, ioredis, amqplib, undici] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@fastify/otel'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-amqplib'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const hooks = await hookEsmImports();
  const http = new FastifyOtelInstrumentation({ instrumentHooks: false });
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [http, new pg.PgInstrumentation(), new ioredis.IORedisInstrumentation(), new amqplib.AmqplibInstrumentation(), new undici.UndiciInstrumentation()],
  });
  sdk.start();
  await hooks.ready();
  useTracing(api, http.plugin());
  // An unreachable collector must not keep a stopping process alive: what is not exported in time is dropped.
  return { shutdown: () => Promise.race([sdk.shutdown(), new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_MS).unref())]) };
}

/**
 * The instrumentations patch libraries as `require` loads them; the app loads pg, ioredis and the
 * rest through `import`, which only a module loader hook sees. The hook intercepts just the modules
 * an instrumentation asks for, and the app may load them once the loader has acknowledged them all.
 */
async function hookEsmImports(): Promise<{ ready: () => Promise<void> }> {
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  return { ready: waitForAllMessagesAcknowledged };
}
