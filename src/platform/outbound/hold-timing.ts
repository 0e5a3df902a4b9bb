/** Held jobs wake on this grid, so that the jobs held together become ready together and run by priority. */
export const GRID_MS = 250;

/**
 * A job held by a forced-open circuit or a probe in flight asks again this often. When a probe
 * succeeds, the held jobs run together once the last of those holds has ended.
 */
export const RECHECK_MS = 1_000;

/** `delayMs` from `now`, moved to the next point of the grid. */
export function onGrid(delayMs: number, now: number): number {
  return Math.ceil((now + delayMs) / GRID_MS) * GRID_MS - now;
}
