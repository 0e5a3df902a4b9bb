import { sql, type SqlBool } from 'kysely';
import type { Executor } from '../db/database.js';
import { executorDialect } from '../db/executor-dialect.js';
import { tablesOf } from '../db/tables.js';
import type { ForcedCircuit, OutboundTables } from './outbound.tables.js';

const tables = tablesOf<OutboundTables>();

/** Creates the destination's row unless it exists. */
export async function ensureDestination(db: Executor, destination: string, now: number): Promise<void> {
  const insert = tables(db).insertInto('outbound_destinations').values({ destination, updated_at: now });
  if (executorDialect(db) === 'mysql') await insert.ignore().execute();
  else await insert.onConflict((oc) => oc.column('destination').doNothing()).execute();
}

/**
 * The destinations that are not plainly healthy: open, forced, or paused (or climbing back from a
 * pause that ended within `recoveryMs`). Every worker keeps these in memory.
 */
export function findUnsettledDestinations(db: Executor, now: number, recoveryMs: number) {
  return tables(db)
    .selectFrom('outbound_destinations')
    .selectAll()
    .where((eb) => eb.or([eb('opened_at', 'is not', null), eb('forced', 'is not', null), eb('paused_until', '>', now - recoveryMs), eb('release_at', '>', now)]))
    .execute();
}

/** Every destination with a row, for the metrics. */
export function listDestinations(db: Executor) {
  return tables(db).selectFrom('outbound_destinations').selectAll().orderBy('destination').execute();
}

/** A page of destinations for operators: open, half-open or forced first, then paused, then the rest. */
export function listDestinationsPage(db: Executor, now: number, page: { limit: number; offset: number }) {
  const rank = sql<number>`case when opened_at is not null or forced is not null then 0 when paused_until > ${now} then 1 else 2 end`;
  return tables(db).selectFrom('outbound_destinations').selectAll().orderBy(rank).orderBy('destination').limit(page.limit).offset(page.offset).execute();
}

export async function countDestinations(db: Executor): Promise<number> {
  const row = await tables(db).selectFrom('outbound_destinations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findDestination(db: Executor, destination: string) {
  return tables(db).selectFrom('outbound_destinations').selectAll().where('destination', '=', destination).executeTakeFirst();
}

/** Opens the circuit unless it is open already or forced closed; true when this call opened it. */
export async function openCircuit(db: Executor, destination: string, cooldownMs: number, failure: string, now: number): Promise<boolean> {
  await ensureDestination(db, destination, now);
  const result = await tables(db)
    .updateTable('outbound_destinations')
    .set({ opened_at: now, open_until: now + cooldownMs, cooldown_ms: cooldownMs, probe_until: null, last_failure: failure.slice(0, 255), last_failure_at: now, updated_at: now })
    .where('destination', '=', destination)
    .where('opened_at', 'is', null)
    .where((eb) => eb.or([eb('forced', 'is', null), eb('forced', '<>', 'closed')]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Takes the half-open circuit's one probe: true when the cool-down has passed and no other probe
 * holds it. The probe holds it for `leaseMs`, after which another may go.
 */
export async function claimProbe(db: Executor, destination: string, leaseMs: number, now: number): Promise<boolean> {
  const result = await tables(db)
    .updateTable('outbound_destinations')
    .set({ probe_until: now + leaseMs, updated_at: now })
    .where('destination', '=', destination)
    .where('opened_at', 'is not', null)
    .where('forced', 'is', null)
    .where('open_until', '<=', now)
    .where((eb) => eb.or([eb('probe_until', 'is', null), eb('probe_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives back a probe that was never sent, so that another job may probe at once. */
export async function releaseProbe(db: Executor, destination: string, now: number): Promise<void> {
  await tables(db).updateTable('outbound_destinations').set({ probe_until: null, updated_at: now }).where('destination', '=', destination).execute();
}

/** A failed probe: the circuit opens again with twice the cool-down, at most `maxCooldownMs`. */
export async function reopen(db: Executor, destination: string, maxCooldownMs: number, failure: string, now: number): Promise<void> {
  const doubled = sql<number>`case when cooldown_ms * 2 > ${maxCooldownMs} then ${maxCooldownMs} else cooldown_ms * 2 end`;
  await tables(db)
    .updateTable('outbound_destinations')
    // open_until first: MySQL evaluates SET left to right, and it must read the old cool-down.
    // `now` as a literal: PostgreSQL would type a parameter added to an integer as an integer.
    .set({ open_until: sql<number>`${sql.lit(now)} + ${doubled}`, cooldown_ms: doubled, probe_until: null, last_failure: failure.slice(0, 255), last_failure_at: now, updated_at: now })
    .where('destination', '=', destination)
    .where('opened_at', 'is not', null)
    .execute();
}

/** Closes the circuit, its held jobs to run at `releaseAt`; true when it was open. */
export async function closeCircuit(db: Executor, destination: string, releaseAt: number, now: number): Promise<boolean> {
  const result = await tables(db)
    .updateTable('outbound_destinations')
    .set({ opened_at: null, open_until: null, cooldown_ms: null, probe_until: null, release_at: releaseAt, updated_at: now })
    .where('destination', '=', destination)
    .where('opened_at', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** No request to the destination before `until`, unless a later pause is set already. */
export async function pauseUntil(db: Executor, destination: string, until: number, now: number): Promise<void> {
  await ensureDestination(db, destination, now);
  await tables(db)
    .updateTable('outbound_destinations')
    .set({ paused_until: until, updated_at: now })
    .where('destination', '=', destination)
    .where((eb) => eb.or([eb('paused_until', 'is', null), eb('paused_until', '<', until)]))
    .execute();
}

/**
 * An operator's override: `open` holds every job of the destination, `closed` lets them through
 * whatever fails, null gives the circuit back to its breaker. Forcing it closed also ends an open
 * circuit, so that it stays closed when given back.
 */
export async function forceCircuit(db: Executor, destination: string, forced: ForcedCircuit | null, now: number): Promise<void> {
  await ensureDestination(db, destination, now);
  const close = forced === 'closed' ? { opened_at: null, open_until: null, cooldown_ms: null, probe_until: null } : {};
  await tables(db)
    .updateTable('outbound_destinations')
    .set({ forced, ...close, updated_at: now })
    .where('destination', '=', destination)
    .execute();
}

/** Deletes the rows of settled destinations untouched since `before` (webhook endpoints come and go). */
export async function deleteSettledDestinations(db: Executor, before: number): Promise<number> {
  const result = await tables(db)
    .deleteFrom('outbound_destinations')
    .where('opened_at', 'is', null)
    .where('forced', 'is', null)
    .where(sql<SqlBool>`coalesce(paused_until, 0) < ${before}`)
    .where(sql<SqlBool>`coalesce(release_at, 0) < ${before}`)
    .where('updated_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
