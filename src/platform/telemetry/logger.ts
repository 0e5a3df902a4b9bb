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
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty ?? process.stdout.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } });
  }
  return pino(options);
}
