import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ClaimGate } from '../queue/queue.js';
import { circuitStateOf } from './circuit-state.js';
import { onGrid } from './hold-timing.js';
import type { DestinationRow } from './outbound.tables.js';

/** Why no job may go to a destination now. */
export type HoldReason = 'forced_open' | 'probe_in_flight' | 'paused' | 'releasing' | 'circuit_open';

export interface DestinationHold {
  reason: HoldReason;
  /** Until when (epoch ms); Infinity while only a later change of the row can tell (forced open, a probe in flight). */
  until: number;
}

/**
 * Whether, why and until when no job may go to the destination, as its row says at `now`: null
 * when one may (a half-open circuit lets its probe go).
 */
export function holdOf(row: DestinationRow | undefined, now: number): DestinationHold | null {
  if (!row) return null;
  if (row.forced === 'open') return { reason: 'forced_open', until: Infinity };
  const state = circuitStateOf(row, now);
  if (state === 'half_open' && row.probe_until !== null && row.probe_until > now) return { reason: 'probe_in_flight', until: Infinity };
  const ends: DestinationHold[] = [
    { reason: 'paused', until: row.paused_until ?? -Infinity },
    { reason: 'releasing', until: row.release_at ?? -Infinity },
    { reason: 'circuit_open', until: state === 'open' ? now + onGrid(row.open_until! - now, now) : -Infinity },
  ];
  const last = ends.reduce((a, b) => (b.until > a.until ? b : a));
  return last.until > now ? last : null;
}

/** Until when no job may go to the destination (see holdOf); null when one may. */
export function heldUntilOf(row: DestinationRow | undefined, now: number): number | null {
  return holdOf(row, now)?.until ?? null;
}

export interface DestinationGateOptions {
  destination: string;
  /** The destination's row as this process knows it (at most `pollMs` old). */
  read: () => Promise<DestinationRow | undefined>;
  clock: Clock;
  pollMs: number;
  logger: Logger;
}

/**
 * The claim gate of a queue whose every job goes to one destination: closed while the destination
 * is held (an open circuit, a probe in flight, a `Retry-After`, the release after a probe), so that
 * the queue's workers claim nothing then. Its jobs wait in the queue, which hands them out by
 * priority once the gate opens, instead of each being held on its own and coming back scattered.
 * While a worker follows it, the gate reads the destination's row every `pollMs`; the guard also
 * closes it at once when it holds a job itself.
 */
export class DestinationGate implements ClaimGate {
  private heldUntil: number | null = null;
  /** The state the listeners were last told of. */
  private wasOpen = true;
  private readonly listeners = new Set<() => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private failing = false;
  /** The first read after a worker began to follow the gate. */
  private firstRead: Promise<void> | undefined;

  constructor(private readonly o: DestinationGateOptions) {}

  /** Resolves once the row has been read since the first worker followed the gate (or the read failed, which leaves it open). */
  ready(): Promise<void> {
    return this.firstRead ?? Promise.resolve();
  }

  isOpen(): boolean {
    return this.heldUntil === null || this.heldUntil <= this.o.clock.now();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.firstRead = this.poll();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0) return;
      this.stopTimers();
      this.firstRead = undefined;
    };
  }

  /** Closes the gate until `untilMs` at least, without waiting for the next read of the row. */
  holdUntil(untilMs: number): void {
    if (this.heldUntil === null || untilMs > this.heldUntil) this.set(untilMs);
  }

  private async poll(): Promise<void> {
    try {
      const row = await this.o.read();
      this.set(heldUntilOf(row, this.o.clock.now()));
      if (this.failing) this.o.logger.info({ destination: this.o.destination }, 'the state of the destination can be read again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.o.logger.error({ err: error, destination: this.o.destination }, 'could not read the state of the destination; its queue keeps the last known state');
      this.failing = true;
    }
    if (this.listeners.size === 0) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), this.o.pollMs);
    this.pollTimer.unref();
  }

  private set(heldUntil: number | null): void {
    this.heldUntil = heldUntil;
    clearTimeout(this.openTimer);
    const now = this.o.clock.now();
    if (heldUntil !== null && heldUntil > now && Number.isFinite(heldUntil)) {
      this.openTimer = setTimeout(() => this.set(this.heldUntil), heldUntil - now);
      this.openTimer.unref();
    }
    this.notifyIfChanged();
  }

  private notifyIfChanged(): void {
    const open = this.isOpen();
    if (open === this.wasOpen) return;
    this.wasOpen = open;
    for (const listener of [...this.listeners]) listener();
  }

  private stopTimers(): void {
    clearTimeout(this.pollTimer);
    clearTimeout(this.openTimer);
    this.pollTimer = undefined;
  }
}
