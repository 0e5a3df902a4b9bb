import type { Store } from './store.js';

export type TickClaim =
  | { claimed: true }
  /** `claimedAt` and `keptUntil` are unknown for a claim whose value this code cannot read. */
  | { claimed: false; claimedAt?: Date; keptUntil?: Date };

interface ClaimValue {
  owner: string;
  claimedAt: number;
  keptUntil: number;
}

/**
 * Several schedulers (one per scheduler instance) fire the same cron tick; the first to claim it
 * does the work and the others skip it. The key names the tick's scheduled time, not the moment
 * it fired, so instances whose clocks differ by a little still agree on it. A claim that is
 * refused says when it was taken and until when it is kept, so that a skip can say why.
 */
export async function claimTick(store: Store, task: string, tick: Date | string, owner: string, keepMs = 24 * 60 * 60_000, now = Date.now()): Promise<TickClaim> {
  const key = `tick:${task}:${typeof tick === 'string' ? tick : tick.toISOString()}`;
  const value: ClaimValue = { owner, claimedAt: now, keptUntil: now + keepMs };
  if (await store.setIfAbsent(key, JSON.stringify(value), keepMs)) return { claimed: true };
  const held = parseClaim(await store.get(key).catch(() => null));
  return held ? { claimed: false, claimedAt: new Date(held.claimedAt), keptUntil: new Date(held.keptUntil) } : { claimed: false };
}

function parseClaim(raw: string | null): ClaimValue | undefined {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<ClaimValue>;
    return typeof value.claimedAt === 'number' && typeof value.keptUntil === 'number' ? (value as ClaimValue) : undefined;
  } catch {
    // A claim written by an earlier version holds only its owner.
    return undefined;
  }
}
