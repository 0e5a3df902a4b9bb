/** An operator's override of a destination's circuit. */
export type ForcedCircuit = 'open' | 'closed';

export interface OutboundDestinationsTable {
  destination: string;
  /** Set while the circuit is open or half-open; null while it is closed. */
  opened_at: number | null;
  /** The end of the cool-down: from then on one probe may go through (half-open). */
  open_until: number | null;
  cooldown_ms: number | null;
  /** While a probe is in flight, until when it holds the half-open circuit. */
  probe_until: number | null;
  /** No request before this time: the destination's own `Retry-After`. */
  paused_until: number | null;
  /** The circuit has closed: the jobs it held run together at this time, so that they run by priority. */
  release_at: number | null;
  forced: ForcedCircuit | null;
  /** The failure that last opened the circuit, or that a probe met. */
  last_failure: string | null;
  last_failure_at: number | null;
  updated_at: number;
}

export interface OutboundTables {
  outbound_destinations: OutboundDestinationsTable;
}

export type DestinationRow = OutboundDestinationsTable;
