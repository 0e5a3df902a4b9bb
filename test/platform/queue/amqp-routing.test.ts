import { describe, expect, it } from 'vitest';
import { decodeJob, publishOptions, type JobMessage } from '../../../src/platform/queue/amqp/amqp-message.js';
import { DEFAULT_RETRY_TIERS_MS, routeFor, validateTiers } from '../../../src/platform/queue/amqp/amqp-topology.js';

const TIERS = [250, 1_000, 4_000];
const NOW = 1_700_000_000_000;

describe('amqp retry routing', () => {
  it('sends a due job to its queue', () => {
    expect(routeFor('q', 0, NOW, TIERS)).toBe('q');
    expect(routeFor('q', NOW, NOW, TIERS)).toBe('q');
    expect(routeFor('q', NOW - 5, NOW, TIERS)).toBe('q');
  });

  it('waits in the largest tier that does not overshoot, so a delay between tiers is not rounded up', () => {
    expect(routeFor('q', NOW + 3_999, NOW, TIERS)).toBe('q.retry.1000');
    expect(routeFor('q', NOW + 4_000, NOW, TIERS)).toBe('q.retry.4000');
    expect(routeFor('q', NOW + 60_000, NOW, TIERS)).toBe('q.retry.4000');
    expect(routeFor('q', NOW + 700, NOW, TIERS)).toBe('q.retry.250');
  });

  it('waits in the smallest tier when the rest of the delay is shorter than every tier', () => {
    expect(routeFor('q', NOW + 1, NOW, TIERS)).toBe('q.retry.250');
  });

  it('accepts only ascending positive whole tiers', () => {
    expect(() => validateTiers(DEFAULT_RETRY_TIERS_MS)).not.toThrow();
    expect(() => validateTiers([])).toThrow(/at least one/);
    expect(() => validateTiers([1_000, 250])).toThrow(/ascend/);
    expect(() => validateTiers([250, 250])).toThrow(/ascend/);
    expect(() => validateTiers([0, 10])).toThrow(/positive/);
    expect(() => validateTiers([1.5])).toThrow(/positive/);
  });
});

describe('amqp job messages', () => {
  const job: JobMessage = {
    id: 'job-1',
    payload: { name: 'x', list: [1, null] },
    body: Buffer.from(JSON.stringify({ name: 'x', list: [1, null] })),
    priority: 5,
    attempts: 2,
    maxAttempts: 7,
    createdAt: NOW,
    availableAt: NOW + 1_000,
    lastError: 'e'.repeat(5_000),
    parkedAt: null,
    dedupeKey: 'order-1',
    headers: { traceparent: '00-abc-def-01', 'x-request-id': 'r1' },
  };

  it('reads back what it wrote, with a long error cut short', () => {
    const options = publishOptions(job);
    const decoded = decodeJob({ content: job.body, properties: { ...options, headers: options.headers }, fields: {} } as never);
    expect(decoded).toEqual({ ...job, lastError: expect.stringMatching(/^e{2000}…$/) });
  });

  it('refuses a message without the headers this driver writes', () => {
    const read = (properties: object, body = '{}') => () => decodeJob({ content: Buffer.from(body), properties, fields: {} } as never);
    const base = publishOptions({ ...job, lastError: null });
    expect(read({ ...base, messageId: undefined })).toThrow(/no message id/);
    expect(read({ ...base, priority: 9 })).toThrow(/priority 9/);
    expect(read(base, 'not json')).toThrow(/not JSON/);
    expect(read({ ...base, headers: { ...base.headers, 'x-intake-attempts': -1 } })).toThrow(/x-intake-attempts/);
    expect(read({ ...base, headers: { ...base.headers, 'x-intake-headers': '{"a":1}' } })).toThrow(/x-intake-headers/);
  });
});
