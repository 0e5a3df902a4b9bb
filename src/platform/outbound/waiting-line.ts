import { DeferredError } from '../queue/queue.js';
import type { RateDecision } from './shared-rate-limiter.js';

/** Where a job stands in a waiting line: by priority, then by how long it has been ready to run. */
export interface Turn {
  priority: number;
  /** Since when the job could run (epoch ms): earlier goes first within a priority. */
  readySince: number;
  /** The worker is stopping: the job leaves the line. */
  signal?: AbortSignal;
}

interface Waiter {
  turn: Turn;
  arrival: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  leave: () => void;
}

/**
 * The jobs of one destination waiting in this process for a token of its rate limit, served one
 * token at a time in their turn's order, so that a job that arrived later with a lower priority
 * never takes a token before them. `ask` takes one token for the head (`demand`: how many wait);
 * when it throws (the destination is held), every waiting job is sent back with that error.
 */
export class WaitingLine {
  private readonly waiters: Waiter[] = [];
  private serving = false;
  private arrivals = 0;

  constructor(private readonly ask: (demand: number) => Promise<RateDecision>) {}

  get length(): number {
    return this.waiters.length;
  }

  join(turn: Turn): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (turn.signal?.aborted) return reject(stopping());
      const waiter: Waiter = { turn, arrival: this.arrivals++, resolve, reject, leave: () => undefined };
      const onAbort = () => {
        this.remove(waiter);
        reject(stopping());
      };
      turn.signal?.addEventListener('abort', onAbort, { once: true });
      waiter.leave = () => turn.signal?.removeEventListener('abort', onAbort);
      const at = this.waiters.findIndex((other) => goesBefore(waiter, other));
      this.waiters.splice(at < 0 ? this.waiters.length : at, 0, waiter);
      if (!this.serving) void this.serve();
    });
  }

  private async serve(): Promise<void> {
    this.serving = true;
    try {
      while (this.waiters.length > 0) {
        let decision: RateDecision;
        try {
          decision = await this.ask(this.waiters.length);
        } catch (error) {
          for (const waiter of this.waiters.splice(0)) {
            waiter.leave();
            waiter.reject(error);
          }
          return;
        }
        if (decision.granted) {
          const head = this.waiters.shift();
          head?.leave();
          head?.resolve();
        } else {
          await new Promise((resolve) => setTimeout(resolve, decision.waitMs).unref());
        }
      }
    } finally {
      this.serving = false;
    }
  }

  private remove(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
  }
}

function goesBefore(a: Waiter, b: Waiter): boolean {
  if (a.turn.priority !== b.turn.priority) return a.turn.priority > b.turn.priority;
  if (a.turn.readySince !== b.turn.readySince) return a.turn.readySince < b.turn.readySince;
  return a.arrival < b.arrival;
}

function stopping(): DeferredError {
  return new DeferredError(1, 'the worker stopped while the job waited for a token');
}
