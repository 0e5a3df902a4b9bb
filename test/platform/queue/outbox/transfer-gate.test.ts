import { describe, expect, it } from 'vitest';
import { TransferGate } from '../../../../src/platform/queue/outbox/transfer-gate.js';
import { deferred } from '../../../support/driver-wait.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('transfer gate', () => {
  it('runs transfers side by side', async () => {
    const gate = new TransferGate(60_000);
    const release = deferred();
    const running: string[] = [];
    const both = Promise.all(
      ['a', 'b'].map((name) =>
        gate.transfer(async () => {
          running.push(name);
          await release.promise;
        }),
      ),
    );
    await settle();
    expect(running).toEqual(['a', 'b']);
    release.resolve();
    await both;
  });

  it('holds an inspection until the transfers in progress end, and new transfers until it is done', async () => {
    const gate = new TransferGate(60_000);
    const events: string[] = [];
    const firstDone = deferred();
    const inspectionDone = deferred();
    const first = gate.transfer(async () => {
      events.push('first transfer starts');
      await firstDone.promise;
      events.push('first transfer ends');
    });
    await settle();
    const inspection = gate.inspect(async () => {
      events.push('inspection starts');
      await inspectionDone.promise;
      events.push('inspection ends');
      return 42;
    });
    const second = gate.transfer(async () => void events.push('second transfer runs'));
    await settle();
    expect(events).toEqual(['first transfer starts']);

    firstDone.resolve();
    await first;
    await settle();
    expect(events).toEqual(['first transfer starts', 'first transfer ends', 'inspection starts']);

    inspectionDone.resolve();
    expect(await inspection).toBe(42);
    await second;
    expect(events).toEqual(['first transfer starts', 'first transfer ends', 'inspection starts', 'inspection ends', 'second transfer runs']);
  });

  it('opens again after an inspection that fails', async () => {
    const gate = new TransferGate(60_000);
    await expect(gate.inspect(async () => Promise.reject(new Error('stats failed')))).rejects.toThrow('stats failed');
    expect(await gate.transfer(async () => 'moved')).toBe('moved');
    expect(await gate.inspect(async () => 'seen')).toBe('seen');
  });

  it('waits no longer than its bound for a transfer that hangs', async () => {
    const gate = new TransferGate(50);
    void gate.transfer(() => new Promise(() => {}));
    await settle();
    const startedAt = Date.now();
    expect(await gate.inspect(async () => 'counted anyway')).toBe('counted anyway');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });
});
