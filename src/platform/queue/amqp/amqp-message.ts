import type { Message, Options } from 'amqplib';
import { DEFAULT_PRIORITY, PRIORITIES, type ParkedJob, type Priority } from '../queue.js';

/** A job as it travels in a message: the body is the payload's JSON, the rest rides in headers. */
export interface JobMessage {
  /** The message id: stable across retries, parking and re-runs. */
  id: string;
  payload: unknown;
  body: Buffer;
  priority: Priority;
  /** Attempts made before this delivery. */
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  /** Not before this time (ms since the epoch); 0 when it never waited. */
  availableAt: number;
  lastError: string | null;
  parkedAt: number | null;
  dedupeKey: string | null;
  headers: Record<string, string>;
}

const H = {
  attempts: 'x-intake-attempts',
  maxAttempts: 'x-intake-max-attempts',
  createdAt: 'x-intake-created-at',
  availableAt: 'x-intake-available-at',
  lastError: 'x-intake-last-error',
  parkedAt: 'x-intake-parked-at',
  dedupeKey: 'x-intake-dedupe-key',
  headers: 'x-intake-headers',
} as const;

/** Headers share one 64 KiB table with everything else; an error message is cut well short of it. */
const MAX_ERROR_CHARS = 2_000;

export class UndecodableMessageError extends Error {
  constructor(reason: string) {
    super(`undecodable message: ${reason}`);
    this.name = 'UndecodableMessageError';
  }
}

export function publishOptions(job: JobMessage): Options.Publish {
  const headers: Record<string, unknown> = {
    [H.attempts]: job.attempts,
    [H.maxAttempts]: job.maxAttempts,
    [H.createdAt]: job.createdAt,
  };
  if (job.availableAt > 0) headers[H.availableAt] = job.availableAt;
  if (job.lastError !== null) headers[H.lastError] = truncate(job.lastError);
  if (job.parkedAt !== null) headers[H.parkedAt] = job.parkedAt;
  if (job.dedupeKey !== null) headers[H.dedupeKey] = job.dedupeKey;
  if (Object.keys(job.headers).length > 0) headers[H.headers] = JSON.stringify(job.headers);
  return { persistent: true, messageId: job.id, priority: job.priority, contentType: 'application/json', headers };
}

/** Reads a delivered message; throws UndecodableMessageError for anything this driver did not publish. */
export function decodeJob(message: Message): JobMessage {
  const { properties, content } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const id = properties.messageId as unknown;
  if (typeof id !== 'string' || id.length === 0) throw new UndecodableMessageError('no message id');
  const priority = properties.priority as unknown;
  if (!PRIORITIES.includes(priority as Priority)) throw new UndecodableMessageError(`priority ${String(priority)} is not 1..5`);
  let payload: unknown;
  try {
    payload = JSON.parse(content.toString('utf8'));
  } catch {
    throw new UndecodableMessageError('the body is not JSON');
  }
  const maxAttempts = wholeNumber(headers, H.maxAttempts, 1);
  return {
    id,
    payload,
    body: content,
    priority: priority as Priority,
    attempts: wholeNumber(headers, H.attempts, 0),
    maxAttempts,
    createdAt: wholeNumber(headers, H.createdAt, 0),
    availableAt: headers[H.availableAt] === undefined ? 0 : wholeNumber(headers, H.availableAt, 0),
    lastError: optionalString(headers, H.lastError),
    parkedAt: headers[H.parkedAt] === undefined ? null : wholeNumber(headers, H.parkedAt, 0),
    dedupeKey: optionalString(headers, H.dedupeKey),
    headers: jobHeaders(headers[H.headers]),
  };
}

/** A message that could not be decoded, parked as it came with the reason added. */
export function undecodableParkOptions(message: Message, id: string, reason: string, now: number): Options.Publish {
  const { properties } = message;
  return {
    persistent: true,
    messageId: id,
    ...(typeof properties.contentType === 'string' && { contentType: properties.contentType }),
    ...(PRIORITIES.includes(properties.priority as Priority) && { priority: properties.priority as number }),
    headers: { ...(properties.headers ?? {}), [H.lastError]: truncate(reason), [H.parkedAt]: now },
  };
}

/** A parked message as operators see it. One this driver could not decode shows its body as text. */
export function parkedView(queue: string, message: Message): ParkedJob {
  try {
    const job = decodeJob(message);
    const { id, payload, priority, attempts, maxAttempts, lastError, createdAt } = job;
    return { id, queue, payload, priority, attempts, maxAttempts, lastError, createdAt, parkedAt: job.parkedAt ?? createdAt };
  } catch {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const number = (name: string): number => (typeof headers[name] === 'number' ? headers[name] : 0);
    const lastError = headers[H.lastError];
    const priority = message.properties.priority as Priority;
    return {
      id: String(message.properties.messageId ?? ''),
      queue,
      payload: message.content.toString('utf8'),
      priority: PRIORITIES.includes(priority) ? priority : DEFAULT_PRIORITY,
      attempts: number(H.attempts),
      maxAttempts: number(H.maxAttempts),
      lastError: typeof lastError === 'string' ? lastError : null,
      createdAt: number(H.createdAt),
      parkedAt: number(H.parkedAt),
    };
  }
}

function wholeNumber(headers: Record<string, unknown>, name: string, min: number): number {
  const value = headers[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new UndecodableMessageError(`header ${name} is ${JSON.stringify(value) ?? 'missing'}, not a whole number >= ${min}`);
  }
  return value;
}

function optionalString(headers: Record<string, unknown>, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  if (typeof value !== 'string') throw new UndecodableMessageError(`header ${name} is not a string`);
  return value;
}

function jobHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const parsed = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) {
      return parsed as Record<string, string>;
    }
  } catch {
    // reported below
  }
  throw new UndecodableMessageError(`header ${H.headers} is not a JSON object of strings`);
}

function truncate(text: string): string {
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS)}…`;
}
