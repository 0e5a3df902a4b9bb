import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A W3C `traceparent` for work that leaves this request (a job, a third-party call): a new span
 * under the caller's trace when the caller sent a valid one, otherwise a new trace.
 */
export function childTraceparent(incoming?: string | string[]): string {
  const match = typeof incoming === 'string' ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomHex(16);
  const flags = match?.[3] ?? '01';
  return `00-${traceId}-${randomHex(8)}-${flags}`;
}

/** The trace id of a W3C `traceparent` (32 hex digits), or null when there is none or it is malformed. */
export function traceIdOf(traceparent: string | undefined): string | null {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim().toLowerCase());
  return match && !/^0+$/.test(match[1]!) ? match[1]! : null;
}

/** Random bytes are drawn 4 KiB at a time: a system call per id cost 3% of an order's CPU. */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}
