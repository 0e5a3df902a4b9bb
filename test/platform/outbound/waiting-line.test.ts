import { describe, expect, it } from 'vitest';
import { WaitingLine, type Turn } from '../../../src/platform/outbound/waiting-line.js';
import type { RateDecision } from '../../../src/platform/outbound/shared-rate-limiter.js';
import { DeferredError } from '../../../src/platform/queue/queue.js';

/** A line whose `ask` grants a token only when the test hands one out. */
function lineWithTokens() {
  const tokens: Array<(decision: RateDecision) => void> = [];
  const demands: number[] = [];
  let failWith: unknown;
  const line = new WaitingLine((demand) => {
    demands.push(demand);
    if (failWith !== undefined) return Promise.reject(failWith);
    return new Promise((resolve) => tokens.push(resolve));
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return {
    line,
    demands,
    /** Grants the pending ask, then lets the line move on. */
    async grant() {
      tokens.shift()!({ granted: true });
      await settle();
    },
    async deny(waitMs: number) {
      tokens.shift()!({ granted: false, waitMs });
      await settle();
    },
    failNext(error: unknown) {
      failWith = error;
    },
    settle,
  };
}

const turn = (priority: number, readySince: number, signal?: AbortSignal): Turn => ({ priority, readySince, signal });

describe('waiting line', () => {
  it('hands out tokens by priority, then by how long each job has been ready, then by arrival', async () => {
    const { line, grant, demands, settle } = lineWithTokens();
    const served: string[] = [];
    const join = (name: string, t: Turn) => void line.join(t).then(() => served.push(name));
    join('first low', turn(1, 100));
    await settle();
    // The line is asking for its head; these arrive meanwhile, and each token goes to whoever heads the line when it comes.
    join('normal, ready later', turn(2, 300));
    join('max', turn(5, 500));
    join('normal, ready earlier', turn(2, 200));
    join('normal, ready earlier too', turn(2, 200));
    join('second low', turn(1, 50));
    for (let i = 0; i < 6; i++) await grant();
    expect(served).toEqual(['max', 'normal, ready earlier', 'normal, ready earlier too', 'normal, ready later', 'second low', 'first low']);
    // Each ask says how many wait, so that a lease is sized for them all.
    expect(demands).toEqual([1, 5, 4, 3, 2, 1]);
    expect(line.length).toBe(0);
  });

  it('asks again after the wait a denial names, for the same head', async () => {
    const { line, grant, deny, demands } = lineWithTokens();
    let served = false;
    void line.join(turn(3, 0)).then(() => (served = true));
    await deny(20);
    expect(served).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(demands).toHaveLength(2);
    await grant();
    expect(served).toBe(true);
  });

  it('sends every waiting job back with the error of an ask that finds the destination held', async () => {
    const { line, deny, failNext } = lineWithTokens();
    const joined = Promise.allSettled([line.join(turn(5, 0)), line.join(turn(1, 0)), line.join(turn(3, 0))]);
    const held = new DeferredError(250, 'the circuit is open', 1_000);
    failNext(held);
    await deny(1);
    for (const result of await joined) expect(result).toEqual({ status: 'rejected', reason: held });
    expect(line.length).toBe(0);
  });

  it('lets a job whose worker stops leave the line, its place taken by the next', async () => {
    const { line, grant, settle } = lineWithTokens();
    const stop = new AbortController();
    const served: string[] = [];
    void line.join(turn(1, 0)).then(() => served.push('low'));
    await settle();
    const leaving = line.join(turn(5, 0, stop.signal));
    void line.join(turn(3, 0)).then(() => served.push('stays'));
    stop.abort();
    await expect(leaving).rejects.toBeInstanceOf(DeferredError);
    expect(line.length).toBe(2);
    await grant();
    await grant();
    expect(served).toEqual(['stays', 'low']);
    const aborted = new AbortController();
    aborted.abort();
    await expect(line.join(turn(5, 0, aborted.signal))).rejects.toBeInstanceOf(DeferredError);
  });
});
