import type { DestinationRow } from './outbound.tables.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** The value of `circuit_state{destination}`. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, half_open: 2 };

/** The circuit as an operator's override or the breaker leaves it at `now`. */
export function circuitStateOf(row: DestinationRow | undefined, now: number): CircuitState {
  if (!row) return 'closed';
  if (row.forced === 'open') return 'open';
  if (row.forced === 'closed' || row.opened_at === null) return 'closed';
  return row.open_until !== null && now < row.open_until ? 'open' : 'half_open';
}

/** The part of a destination name before its first colon: `webhook` of `webhook:12`. */
export function destinationKind(destination: string): string {
  const colon = destination.indexOf(':');
  return colon < 0 ? destination : destination.slice(0, colon);
}
