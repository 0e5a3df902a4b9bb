import { describe, expect, it } from 'vitest';
import { childTraceparent, traceIdOf } from '../../../src/platform/telemetry/trace-context.js';

const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe('childTraceparent', () => {
  it('continues the caller trace with a new span id', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = childTraceparent(incoming);
    expect(child).toMatch(FORMAT);
    expect(child.split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.split('-')[2]).not.toBe('00f067aa0ba902b7');
  });

  it('starts a new trace when the caller sent none or a malformed one', () => {
    for (const incoming of [undefined, '', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', ['a', 'b']]) {
      expect(childTraceparent(incoming)).toMatch(FORMAT);
    }
    expect(childTraceparent().split('-')[1]).not.toBe(childTraceparent().split('-')[1]);
  });

  it('draws fresh ids across refills of its random pool', () => {
    // 4 KiB hold 170 ids of 24 bytes: 1,000 ids refill the pool several times.
    const ids = Array.from({ length: 1_000 }, () => childTraceparent());
    expect(ids.every((id) => FORMAT.test(id))).toBe(true);
    expect(new Set(ids.map((id) => id.split('-')[1])).size).toBe(1_000);
    expect(new Set(ids.map((id) => id.split('-')[2])).size).toBe(1_000);
  });
});

describe('traceIdOf', () => {
  it('reads the trace id of a traceparent, and nothing from a missing, malformed or all-zero one', () => {
    expect(traceIdOf(' 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01 ')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const traceparent of [undefined, '', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01']) {
      expect(traceIdOf(traceparent)).toBeNull();
    }
  });
});
