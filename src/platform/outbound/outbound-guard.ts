import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { DeferredError } from '../queue/queue.js';
import type { Store } from '../store/store.js';
import { circuitStateOf, destinationKind } from './circuit-state.js';
import { DestinationGate, heldUntilOf } from './destination-gate.js';
import { claimProbe, closeCircuit, openCircuit, pauseUntil, releaseProbe, reopen } from './destinations.repository.js';
import { FailureCounter, type TripRule } from './failure-counter.js';
import { GRID_MS, onGrid, RECHECK_MS } from './hold-timing.js';
import type { OutboundMetrics } from './outbound.metrics.js';
import type { DestinationRow } from './outbound.tables.js';
import { SharedRateLimiter } from './shared-rate-limiter.js';
import { UnsettledDestinations } from './unsettled-destinations.js';
import { WaitingLine, type Turn } from './waiting-line.js';

/** When a circuit opens (failures counted by each process), and how it cools down and recovers. */
export interface OutboundSettings extends TripRule {
  /** The first cool-down of an open circuit; each failed probe doubles it, up to `maxCooldownMs`. */
  cooldownMs: number;
  maxCooldownMs: number;
  /** How stale this process's view of other processes' circuits and pauses may be. */
  refreshMs: number;
  /** A 429 without `Retry-After` pauses the destination this long. */
  defaultPauseMs: number;
  /** The longest pause a `Retry-After` can ask for. */
  maxPauseMs: number;
  /** After a pause, the rate climbs back from a tenth of the limit (or 10/s), doubling each second, over at most this long. */
  recoveryMs: number;
}

/** What came of a request to the destination. */
export type OutboundOutcome =
  /** An answer that says the destination works (any status but 408, 429 and 5xx). */
  | { kind: 'success' }
  /** A timeout, a network error, a 408 or a 5xx. */
  | { kind: 'failure'; error: string }
  /** A 429, or a 503 with `Retry-After`: the destination asks for less. */
  | { kind: 'throttled'; retryAfterMs?: number };

export interface DestinationLimits {
  /** Requests per second, shared by every process; undefined: no limit. */
  ratePerS: number | undefined;
  /** How long a probe holds the half-open circuit before another may go: the request's timeout. */
  probeLeaseMs: number;
  /**
   * A job denied a token waits in this process's line for one, in priority order, when its wait is
   * at most this long; otherwise, or when unset, it is held off the worker. Only for a queue whose
   * jobs all go to this one destination: a slot that waits could run nothing else.
   */
  waitInLineMs?: number;
  /** The caller's queue follows this destination's gate (`gateOf`): a held job goes back to its queue, whose gate keeps it. */
  gated?: boolean;
}

export interface Admission {
  destination: string;
  /** This request is the half-open circuit's one probe. */
  probe: boolean;
}

export interface GuardDeps {
  database: Database;
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics?: OutboundMetrics;
  settings: OutboundSettings;
}

/**
 * A gated caller's held job is ready again this soon: later than every other process's next read
 * of the destination (`refreshMs`), so that none sends it past the hold in the meantime.
 */
function giveBackMs(refreshMs: number): number {
  return 2 * refreshMs;
}
/** The rate, per second, that a destination without a limit climbs back from after a pause. */
const UNLIMITED_RECOVERY_START_PER_S = 10;
/** Destinations whose failures this process counts, before the idle ones are dropped. */
const MAX_COUNTERS = 10_000;

/**
 * Protects each outbound destination, for every worker process at once: its rate limit (through
 * the store), the pause its `Retry-After` asks for, and its circuit breaker (through the
 * `outbound_destinations` table). A job that may not send now is held: `admit` throws a
 * DeferredError, so the job waits off the worker's slots and no attempt is counted.
 */
export class OutboundGuard {
  private readonly limiter: SharedRateLimiter;
  private readonly unsettled: UnsettledDestinations;
  private readonly counters = new Map<string, FailureCounter>();
  private readonly gates = new Map<string, DestinationGate>();
  private readonly lines = new Map<string, WaitingLine>();

  constructor(private readonly deps: GuardDeps) {
    this.limiter = new SharedRateLimiter(deps.store, deps.clock);
    this.unsettled = new UnsettledDestinations(deps.database, deps.clock, deps.settings.refreshMs, deps.settings.recoveryMs);
  }

  /**
   * The claim gate for a queue whose every job goes to `destination` (see DestinationGate): one per
   * destination, shared by the workers that follow it.
   */
  gateOf(destination: string): DestinationGate {
    let gate = this.gates.get(destination);
    if (!gate) {
      const { clock, logger, settings } = this.deps;
      gate = new DestinationGate({ destination, read: () => this.unsettled.get(destination), clock, pollMs: settings.refreshMs, logger });
      this.gates.set(destination, gate);
    }
    return gate;
  }

  /**
   * Lets one request go to `destination` at up to `limits.ratePerS` (undefined: no limit), or throws
   * a DeferredError that holds the job until it may. With `turn` and `limits.waitInLineMs`, a job
   * denied a token may wait for one in line instead (see WaitingLine).
   */
  async admit(destination: string, limits: DestinationLimits, turn?: Turn): Promise<Admission> {
    const now = this.deps.clock.now();
    let row = await this.unsettled.get(destination);
    if (row && this.holdOrProbe(row, now, limits) === 'probe') {
      if (await claimProbe(this.deps.database.db, destination, limits.probeLeaseMs, now)) return { destination, probe: true };
      // Another probe holds it, or has just closed it: then its jobs are being released, this one with them.
      row = await this.unsettled.reload(destination);
      if (row && this.holdOrProbe(row, now, limits) === 'probe') this.hold(destination, limits, 'probe_in_flight', onGrid(RECHECK_MS, now), `the circuit of ${destination} is half-open and its probe is in flight`);
    }
    const rate = this.rateAfterPause(limits.ratePerS, row, now);
    if (rate === undefined) return { destination, probe: false };
    const maxWaitMs = turn && limits.waitInLineMs;
    // While jobs wait in line, a newcomer joins it rather than take a token before them.
    if (!maxWaitMs || !this.lines.get(destination)?.length) {
      const decision = await this.limiter.tryAcquire(destination, rate);
      if (decision.granted) return { destination, probe: false };
      if (!maxWaitMs || decision.waitMs > maxWaitMs) this.hold(destination, limits, 'rate_limited', decision.waitMs, rateLimited(destination, rate));
    }
    this.deps.metrics?.held(destinationKind(destination), 'waiting_in_line');
    await this.lineOf(destination, limits).join(turn!);
    return { destination, probe: false };
  }

  /** The line's head asks for a token, unless the destination has become held meanwhile: then the whole line is. */
  private lineOf(destination: string, limits: DestinationLimits): WaitingLine {
    let line = this.lines.get(destination);
    if (!line) {
      line = new WaitingLine(async (demand) => {
        const now = this.deps.clock.now();
        const row = await this.unsettled.get(destination);
        if (row && this.holdOrProbe(row, now, limits) === 'probe') this.hold(destination, limits, 'probe_in_flight', onGrid(RECHECK_MS, now), `the circuit of ${destination} is half-open`);
        const rate = this.rateAfterPause(limits.ratePerS, row, now);
        return rate === undefined ? { granted: true } : this.limiter.tryAcquire(destination, rate, demand);
      });
      this.lines.set(destination, line);
    }
    return line;
  }

  /** Holds the job (throws) while the row says so; `probe` when the circuit is half-open, `pass` otherwise. */
  private holdOrProbe(row: DestinationRow, now: number, limits: DestinationLimits): 'probe' | 'pass' {
    const { destination } = row;
    if (row.forced === 'open') this.hold(destination, limits, 'forced_open', RECHECK_MS, `the circuit of ${destination} is forced open`);
    if (row.paused_until !== null && row.paused_until > now) this.hold(destination, limits, 'paused', row.paused_until - now, `${destination} asked to wait (Retry-After)`);
    if (row.release_at !== null && row.release_at > now) this.hold(destination, limits, 'releasing', row.release_at - now, `the circuit of ${destination} has closed; its held jobs run together by priority`);
    const state = circuitStateOf(row, now);
    if (state === 'open') this.hold(destination, limits, 'circuit_open', onGrid(row.open_until! - now, now), `the circuit of ${destination} is open`);
    return state === 'half_open' ? 'probe' : 'pass';
  }

  /**
   * Records what came of an admitted request. `holdUntil` (epoch ms) is set when the circuit is
   * open now: the job should be held until then, its attempt not counted, rather than retried.
   */
  async report(admission: Admission, outcome: OutboundOutcome): Promise<{ holdUntil?: number }> {
    const { destination } = admission;
    const { database, clock, settings, logger } = this.deps;
    const now = clock.now();
    const counter = this.counterOf(destination, now);
    const seen = await this.unsettled.get(destination);
    if (outcome.kind === 'failure') {
      // Failures count only while the circuit is closed: those of probes and of requests sent before it opened do not.
      const closed = !admission.probe && circuitStateOf(seen, now) === 'closed';
      const tripped = closed && counter.failure(now);
      if (tripped) counter.reset();
      if (admission.probe) {
        await reopen(database.db, destination, settings.maxCooldownMs, outcome.error, now);
        logger.warn({ destination, error: outcome.error }, 'circuit probe failed: the circuit opens again, with a longer cool-down');
      } else if (tripped && (await openCircuit(database.db, destination, settings.cooldownMs, outcome.error, now))) {
        this.deps.metrics?.opened(destination);
        logger.warn({ destination, error: outcome.error, cooldownMs: settings.cooldownMs }, 'circuit opened: jobs for this destination are held until a probe succeeds');
      }
      const row = admission.probe || tripped ? await this.closeGateAfter(destination, now) : seen;
      return circuitStateOf(row, now) === 'closed' ? {} : { holdUntil: now + onGrid(Math.max(0, (row?.open_until ?? now) - now), now) };
    }
    counter.success(now);
    let changed = false;
    if (outcome.kind === 'throttled') {
      const pauseMs = Math.min(settings.maxPauseMs, outcome.retryAfterMs ?? settings.defaultPauseMs);
      await pauseUntil(database.db, destination, now + pauseMs, now);
      logger.info({ destination, pauseMs }, 'destination paused: it answered with Retry-After');
      changed = true;
    }
    // The destination answered: a 429 proves it is up as much as a 200 does.
    if (seen?.opened_at != null || admission.probe) {
      if (await closeCircuit(database.db, destination, now + onGrid(RECHECK_MS + GRID_MS, now), now)) {
        this.deps.metrics?.closed(destination);
        logger.info({ destination }, 'circuit closed: the destination answered; held jobs are released');
      }
      changed = true;
    }
    if (changed) await this.closeGateAfter(destination, now);
    return {};
  }

  /** Reads the row this process has just changed, and closes the destination's gate at once if the row holds it. */
  private async closeGateAfter(destination: string, now: number): Promise<DestinationRow | undefined> {
    const row = await this.unsettled.reload(destination);
    const heldUntil = heldUntilOf(row, now);
    if (heldUntil !== null) this.gates.get(destination)?.holdUntil(heldUntil);
    return row;
  }

  /** An admitted request that was not sent after all (its work was done already): a probe is given back. */
  async unused(admission: Admission): Promise<void> {
    if (admission.probe) await releaseProbe(this.deps.database.db, admission.destination, this.deps.clock.now());
  }

  private hold(destination: string, limits: DestinationLimits, reason: string, delayMs: number, message: string): never {
    this.deps.metrics?.held(destinationKind(destination), reason);
    const now = this.deps.clock.now();
    if (reason === 'rate_limited') {
      const delay = Math.max(1, Math.ceil(delayMs));
      throw new DeferredError(delay, message, now + delay);
    }
    throw this.heldError(destination, limits, now + delayMs, message);
  }

  /**
   * The error that holds a job off its worker until `untilMs`, its attempt not counted. The job of
   * a gated caller goes back to its queue sooner, once the other processes have seen the hold: the
   * gate, closed until `untilMs`, keeps it there with the others, to be claimed by priority.
   */
  heldError(destination: string, limits: DestinationLimits, untilMs: number, message: string): DeferredError {
    const now = this.deps.clock.now();
    const gate = limits.gated ? this.gates.get(destination) : undefined;
    gate?.holdUntil(untilMs);
    const delay = Math.max(1, Math.ceil(Math.min(untilMs - now, gate ? giveBackMs(this.deps.settings.refreshMs) : Infinity)));
    return new DeferredError(delay, message, now + delay);
  }

  /** The limit while a destination climbs back from a pause: it starts low and doubles each second. */
  private rateAfterPause(ratePerS: number | undefined, row: DestinationRow | undefined, now: number): number | undefined {
    const pausedUntil = row?.paused_until;
    if (pausedUntil == null || now - pausedUntil >= this.deps.settings.recoveryMs) return ratePerS;
    const start = ratePerS === undefined ? UNLIMITED_RECOVERY_START_PER_S : Math.max(1, ratePerS / 10);
    const climbing = start * 2 ** Math.floor((now - pausedUntil) / 1000);
    return ratePerS === undefined ? climbing : Math.min(ratePerS, climbing);
  }

  private counterOf(destination: string, now: number): FailureCounter {
    let counter = this.counters.get(destination);
    if (counter) return counter;
    if (this.counters.size >= MAX_COUNTERS) {
      for (const [name, idle] of this.counters) if (now - idle.lastSeen >= this.deps.settings.windowMs) this.counters.delete(name);
    }
    counter = new FailureCounter(this.deps.settings);
    this.counters.set(destination, counter);
    return counter;
  }
}

function rateLimited(destination: string, rate: number): string {
  return `${destination} is at its rate limit of ${rate >= 10 ? String(Math.round(rate)) : rate.toFixed(1)}/s`;
}

/**
 * How an HTTP exchange bears on its destination: no answer, a 408 or a 5xx is a failure; a 429, or
 * a 503 with Retry-After, asks for less; any other answer shows the destination works.
 */
export function outboundOutcomeOf(statusCode: number | null, error: string | null, retryAfterMs?: number): OutboundOutcome {
  if (statusCode === 429 || (statusCode === 503 && retryAfterMs !== undefined)) return { kind: 'throttled', retryAfterMs };
  if (statusCode === null || statusCode === 408 || statusCode >= 500) return { kind: 'failure', error: error ?? `answered ${statusCode}` };
  return { kind: 'success' };
}
