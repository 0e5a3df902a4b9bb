/**
 * bench:pipeline's hand-written PostgreSQL anchor (issue 11): row 2's work done on the same
 * PostgreSQL in the fewest round trips known, and no more of it. A table of its own holds the
 * jobs; `lanes` loops each claim up to `batch` jobs in one statement, mark their items
 * `processing` and read them in one more, POST them all at once with intake's own
 * ThirdPartyClient, and write the outcomes in one transaction of four round trips: BEGIN, the
 * orders locked and their items read (intake's own statement), then ONE statement that updates
 * the items, marks the finished orders, inserts the events (an item event per outcome and an
 * `order.completed` per finished order, made by intake's presenters as intake makes them), deletes
 * the jobs and reads the users' webhook endpoints, and COMMIT. No leases, retries, parking,
 * attempt log, metrics or trace headers: a failed call fails its item at once.
 */
import { sql } from 'kysely';
import type { Config } from '../../src/config.js';
import { createContainer } from '../../src/app/container.js';
import { lockOrdersOfItems } from '../../src/orders/orders.repository.js';
import { presentItem, presentOrder } from '../../src/orders/orders.presenter.js';
import type { OrderItemRow } from '../../src/orders/orders.tables.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import { timeOrderedId } from '../../src/platform/ids.js';
import { stderrLogger, type Pipeline } from './pipeline-drivers.js';

export interface PostgresAnchorLayout {
  lanes: number;
  batch: number;
}

interface Claimed {
  id: string;
  item_id: string;
}

interface Dispatched {
  id: string;
  label: string;
  cost_cents: string;
  order_created_at: string;
}

interface Outcome {
  itemId: number;
  status: 'completed' | 'failed';
  details: string;
}

interface EventRow {
  id: string;
  user_id: number;
  type: string;
  body: string;
}

const IDLE_WAIT_MS = 10;

/** `lanes` loops sharing `concurrency` jobs in flight (lanes lowered to a divisor of it). */
export function laneLayout(concurrency: number, preferredLanes: number): PostgresAnchorLayout {
  let lanes = Math.max(1, Math.min(preferredLanes, concurrency));
  while (concurrency % lanes !== 0) lanes -= 1;
  return { lanes, batch: concurrency / lanes };
}

export async function startPostgresAnchorPipeline(config: Config, layout: PostgresAnchorLayout): Promise<Pipeline> {
  const container = await createContainer(config, { logger: stderrLogger(config) });
  const db = container.database.db;
  const client = new ThirdPartyClient({ url: config.thirdPartyUrl ?? '', timeoutMs: config.thirdPartyTimeoutMs });
  const table = sql.table(`pg_anchor_jobs_${process.pid}_${Date.now()}`);
  await sql`create table ${table} (id bigserial primary key, item_id bigint not null, priority smallint not null, claimed boolean not null default false)`.execute(db);
  await sql`create index on ${table} (priority desc, id) where not claimed`.execute(db);

  let running = true;
  let failures = 0;
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of sleepers) wake();
    sleepers.clear();
  };
  const idle = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, IDLE_WAIT_MS);
      sleepers.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  const claim = async (): Promise<Claimed[]> =>
    (
      await sql<Claimed>`update ${table} set claimed = true
        where id in (select id from ${table} where not claimed order by priority desc, id limit ${layout.batch} for update skip locked)
        returning id, item_id`.execute(db)
    ).rows;

  const dispatch = async (itemIds: number[], now: number): Promise<Dispatched[]> =>
    (
      await sql<Dispatched>`update order_items as i set status = 'processing', updated_at = ${now}
        from orders as o
        where o.id = i.order_id and i.id = any(${itemIds}::bigint[]) and i.status <> 'completed'
        returning i.id, i.label, i.cost_cents, o.created_at as order_created_at`.execute(db)
    ).rows;

  const send = async (item: Dispatched): Promise<Outcome> => {
    const order = { ProductName: item.label, Price: Number(item.cost_cents) / 100, Timestamp: new Date(Number(item.order_created_at)).toISOString() };
    const started = performance.now();
    try {
      const { statusCode, durationMs } = await client.send(order, { idempotencyKey: `order-item-${item.id}` });
      const ok = statusCode >= 200 && statusCode < 300;
      const details = { status_code: statusCode, attempts: 1, duration_ms: durationMs, last_error: ok ? null : `third party answered ${statusCode}`, ...(ok && { completed_at: new Date().toISOString() }) };
      return { itemId: Number(item.id), status: ok ? 'completed' : 'failed', details: JSON.stringify(details) };
    } catch (error) {
      const details = { status_code: null, attempts: 1, duration_ms: Math.round(performance.now() - started), last_error: String(error) };
      return { itemId: Number(item.id), status: 'failed', details: JSON.stringify(details) };
    }
  };

  /** One transaction: the orders locked and read, then everything else in one statement. */
  const record = (outcomes: Outcome[], jobIds: string[], now: number) =>
    db.transaction().execute(async (trx) => {
      const { orders, items } = await lockOrdersOfItems(trx, outcomes.map((o) => o.itemId));
      const byId = new Map(items.map((item) => [item.id, item]));
      const ordersById = new Map(orders.map((order) => [order.id, order]));
      const applied = outcomes.filter((o) => {
        const status = byId.get(o.itemId)?.status;
        return status !== undefined && status !== 'completed';
      });
      const timestamp = new Date(now).toISOString();
      const events: EventRow[] = [];
      const event = (userId: number, type: string, data: unknown) => events.push({ id: timeOrderedId('evt', now), user_id: userId, type, body: JSON.stringify({ type, timestamp, data }) });
      const touched = new Set<number>();
      for (const outcome of applied) {
        const item = byId.get(outcome.itemId)!;
        Object.assign(item, { status: outcome.status, details: outcome.details, updated_at: now });
        const order = ordersById.get(item.order_id)!;
        event(order.user_id, `order.item.${outcome.status}`, { ...presentItem(item), order_id: order.id });
        touched.add(order.id);
      }
      const finished: number[] = [];
      for (const order of orders) {
        const ofOrder = items.filter((item: OrderItemRow) => item.order_id === order.id);
        if (!touched.has(order.id) || order.finished_at !== null || !ofOrder.every((item) => item.kind !== 'recurring' || item.status === 'completed' || item.status === 'failed')) continue;
        finished.push(order.id);
        event(order.user_id, 'order.completed', presentOrder(order, ofOrder));
      }
      const endpoints = await sql<{ id: number }>`with changed as (
          update order_items as i set status = v.status, details = v.details, updated_at = ${now}
          from unnest(${applied.map((o) => o.itemId)}::bigint[], ${applied.map((o) => o.status)}::text[], ${applied.map((o) => o.details)}::text[]) as v(id, status, details)
          where i.id = v.id and i.status <> 'completed'
          returning i.id
        ), finished as (
          update orders set finished_at = ${now} where id = any(${finished}::bigint[]) and finished_at is null returning id
        ), inserted as (
          insert into webhook_events (id, user_id, type, body, created_at)
          select e.id, e.user_id, e.type, e.body, ${now} from unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.user_id)}::bigint[], ${events.map((e) => e.type)}::text[], ${events.map((e) => e.body)}::text[]) as e(id, user_id, type, body)
          returning seq
        ), done as (
          delete from ${table} where id = any(${jobIds}::bigint[]) returning id
        )
        select id from webhook_endpoints where user_id = any(${[...new Set(events.map((e) => e.user_id))]}::bigint[]) and enabled = 1`.execute(trx);
      // Deliveries are row 9's work; this anchor's user has no endpoint, so none are due.
      if (endpoints.rows.length > 0) throw new Error('the PostgreSQL anchor writes no webhook deliveries; its user must have no endpoint');
      failures += applied.filter((o) => o.status === 'failed').length;
    });

  const lane = async () => {
    while (running) {
      const jobs = await claim();
      if (jobs.length === 0) {
        await idle();
        continue;
      }
      const items = await dispatch(jobs.map((job) => Number(job.item_id)), Date.now());
      const outcomes = await Promise.all(items.map(send));
      await record(outcomes, jobs.map((job) => job.id), Date.now());
    }
  };
  const lanes = Array.from({ length: layout.lanes }, () =>
    lane().catch((error: unknown) => {
      failures++;
      container.logger.error({ err: error }, 'PostgreSQL anchor lane failed');
    }),
  );

  return {
    container,
    async enqueue(items) {
      await sql`insert into ${table} (item_id, priority) select * from unnest(${items.map((i) => i.id)}::bigint[], ${items.map((i) => i.priority)}::smallint[])`.execute(db);
      wakeAll();
    },
    async leftovers() {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${table}`.execute(db);
      const left = rows[0]?.n ?? 0;
      return [...(left > 0 ? [`${left} anchor jobs left`] : []), ...(failures > 0 ? [`${failures} items failed or lanes crashed`] : [])];
    },
    async stop() {
      running = false;
      wakeAll();
      await Promise.all(lanes);
      await sql`drop table if exists ${table}`.execute(db);
      await client.close();
      await container.close();
    },
  };
}
