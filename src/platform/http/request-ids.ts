import { randomBytes } from 'node:crypto';

/**
 * Request ids for requests that bring none: a random prefix drawn once per process, then a
 * counter. Unique across processes and restarts like a UUID, without drawing random bytes and
 * formatting them on every request (ids only have to tell requests apart, not be secret).
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let count = 0;
  return () => `${prefix}-${(++count).toString(36)}`;
}
