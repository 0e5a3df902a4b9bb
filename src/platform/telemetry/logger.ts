import { pino, type Logger, type LoggerOptions } from 'pino';
import { activeSpanIds } from './tracing.js';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.password_confirmation',
  '*.token',
  'password',
  'password_confirmation',
  'token',
];

/**
 * pino's error serializer, without the raw bytes some errors carry: Node's HTTP parser errors
 * keep the request as received in `rawPacket`, Authorization header and body included.
 */
export function serializeError(error: unknown): unknown {
  return withoutRawBytes(pino.stdSerializers.err(error as Error), 0);
}

function withoutRawBytes(value: unknown, depth: number): unknown {
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return '[bytes]';
  if (depth >= 4 || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key !== 'rawPacket') copy[key] = withoutRawBytes(child, depth + 1);
  }
  return copy;
}

/**
 * A terminal gets one line per entry. A request line's message says its method, URL, status and
 * duration already, so its `req`, `res` and `responseTime` fields are left out there (JSON keeps them).
 */
export const PRETTY = { translateTime: 'SYS:standard', singleLine: true, ignore: 'pid,hostname,req,res,responseTime' };

export interface LoggerSettings {
  level: LoggerOptions['level'];
  role: string;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    // Every line written inside a span names it, so that logs and traces link both ways.
    mixin: () => activeSpanIds() ?? {},
    base: { role: settings.role, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty ?? process.stdout.isTTY) return pino({ ...options, transport: { target: 'pino-pretty', options: PRETTY } });
  return pino(options);
}
