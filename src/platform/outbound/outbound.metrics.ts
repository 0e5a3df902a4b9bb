import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../telemetry/metrics.js';
import { CIRCUIT_STATE_VALUE, circuitStateOf, destinationKind } from './circuit-state.js';
import { listDestinations } from './destinations.repository.js';

export interface OutboundMetrics {
  /** A job held instead of sent: rate_limited, waiting_in_line, paused, circuit_open, probe_in_flight, releasing, forced_open. */
  held(kind: string, reason: string): void;
  opened(destination: string): void;
  closed(destination: string): void;
}

/**
 * outbound_held_total{destination_kind, reason}, circuit_transitions_total{destination_kind, to}, and
 * circuit_state{destination} (0 closed, 1 open, 2 half-open) for every destination with a row,
 * read from the database when scraped, so any process shows every worker's circuits.
 */
export function outboundMetrics(metrics: Metrics, database: Database, clock: Clock): OutboundMetrics {
  const held = metrics.counter('outbound_held_total', 'Jobs held instead of sent to their destination, by reason: rate_limited, waiting_in_line (for a token, in its worker), paused (Retry-After), circuit_open, probe_in_flight, releasing (the circuit closed; held jobs run together), forced_open', ['destination_kind', 'reason']);
  const transitions = metrics.counter('circuit_transitions_total', 'Circuits opened and closed by this process', ['destination_kind', 'to']);
  metrics.gauge('circuit_state', 'The circuit of each outbound destination that has failed or been forced: 0 closed, 1 open, 2 half-open', ['destination'], async (gauge) => {
    gauge.reset();
    const now = clock.now();
    for (const row of await listDestinations(database.db)) gauge.set({ destination: row.destination }, CIRCUIT_STATE_VALUE[circuitStateOf(row, now)]);
  });
  return {
    held: (kind, reason) => held.inc({ destination_kind: kind, reason }),
    opened: (destination) => transitions.inc({ destination_kind: destinationKind(destination), to: 'open' }),
    closed: (destination) => transitions.inc({ destination_kind: destinationKind(destination), to: 'closed' }),
  };
}
