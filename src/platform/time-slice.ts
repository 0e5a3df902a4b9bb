import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets long background work (a feed run) share the event loop with the requests of the same
 * process: `pause()` yields one turn of the loop once `sliceMs` of work have passed since the
 * last yield. Work whose input is already buffered otherwise runs as one long chain of
 * microtasks, and every request waits for its end.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = 5) {}

  async pause(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await nextTurn();
    this.started = performance.now();
  }
}
