import type { Store } from './store.js';

/**
 * Several schedulers (one per scheduler instance) fire the same cron tick; the first to claim it
 * does the work and the others skip it. The key names the tick's scheduled time, not the moment
 * it fired, so instances whose clocks differ by a little still agree on it.
 */
export function claimTick(store: Store, task: string, tick: Date | string, owner: string, keepMs = 24 * 60 * 60_000): Promise<boolean> {
  const at = typeof tick === 'string' ? tick : tick.toISOString();
  return store.setIfAbsent(`tick:${task}:${at}`, owner, keepMs);
}
