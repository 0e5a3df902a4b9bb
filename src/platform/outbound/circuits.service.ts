import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { circuitStateOf, type CircuitState } from './circuit-state.js';
import { holdOf, type HoldReason } from './destination-gate.js';
import { countDestinations, findDestination, forceCircuit, listDestinationsPage } from './destinations.repository.js';
import { offsetOf, type PageRequest } from '../http/pagination.js';
import type { DestinationRow, ForcedCircuit } from './outbound.tables.js';

/** What an operator asks of a circuit: hold it open, keep it closed, or give it back to its breaker. */
export type CircuitCommand = ForcedCircuit | 'auto';
export const CIRCUIT_COMMANDS: readonly CircuitCommand[] = ['open', 'closed', 'auto'];

export interface CircuitView {
  destination: string;
  state: CircuitState;
  forced: ForcedCircuit | null;
  opened_at: number | null;
  /** When the cool-down ends and a probe may go (open), or ended (half-open). */
  open_until: number | null;
  cooldown_ms: number | null;
  paused_until: number | null;
  last_failure: string | null;
  last_failure_at: number | null;
  updated_at: number;
}

function viewOf(row: DestinationRow, now: number): CircuitView {
  return {
    destination: row.destination,
    state: circuitStateOf(row, now),
    forced: row.forced,
    opened_at: row.opened_at,
    open_until: row.opened_at === null ? null : row.open_until,
    cooldown_ms: row.cooldown_ms,
    paused_until: row.paused_until !== null && row.paused_until > now ? row.paused_until : null,
    last_failure: row.last_failure,
    last_failure_at: row.last_failure_at,
    updated_at: row.updated_at,
  };
}

/** Why and until when a destination is held: its queue's workers claim nothing meanwhile. */
export interface HoldView {
  destination: string;
  reason: HoldReason;
  /** Epoch ms; null while only a change can end it (a circuit forced open, a probe in flight). */
  until: number | null;
}

/** The destinations' circuits for operators (admin API, CLI, dashboard): the breaker's state and the overrides. */
export class CircuitsService {
  constructor(private readonly deps: { database: Database; clock: Clock }) {}

  /** A page of the destinations whose circuit has opened, been paused or forced: the unsettled first. */
  async list(page: PageRequest): Promise<{ circuits: CircuitView[]; total: number }> {
    const now = this.deps.clock.now();
    const [rows, total] = await Promise.all([listDestinationsPage(this.deps.database.db, now, { limit: page.perPage, offset: offsetOf(page) }), countDestinations(this.deps.database.db)]);
    return { circuits: rows.map((row) => viewOf(row, now)), total };
  }

  async get(destination: string): Promise<CircuitView> {
    const row = await findDestination(this.deps.database.db, destination);
    if (!row) throw new NotFoundError(`No circuit for destination "${destination}".`);
    return viewOf(row, this.deps.clock.now());
  }

  /** The hold of `destination`, or null when jobs may go to it. */
  async holdOf(destination: string): Promise<HoldView | null> {
    const hold = holdOf(await findDestination(this.deps.database.db, destination), this.deps.clock.now());
    return hold && { destination, reason: hold.reason, until: Number.isFinite(hold.until) ? hold.until : null };
  }

  /** Forces a circuit open or closed, or gives it back to its breaker; every worker follows within its refresh. */
  async force(destination: string, command: CircuitCommand): Promise<CircuitView> {
    await forceCircuit(this.deps.database.db, destination, command === 'auto' ? null : command, this.deps.clock.now());
    return this.get(destination);
  }
}
