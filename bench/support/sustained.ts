/**
 * bench:orders' "ROLE=all sustained" row (DESIGN.md §7, issue 11): the highest steady order rate
 * at which the in-process worker keeps up. The offered rate steps through fixed levels (autocannon
 * with `overallRate`, a bounded time each); the backlog (recurring items not yet completed or
 * failed) is read shortly after the start (once the rate flows) and at the end of each level. A level is flat when the backlog grew by
 * no more than the tolerance, the rate offered was actually delivered, and every request got a 2xx.
 * The ramp stops at the first level that is not flat.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export interface SustainedSettings {
  /** Offered orders/s, ascending. */
  rates: number[];
  levelS: number;
  connections: number;
  /** Allowed backlog growth between the two samples, in % of the orders answered 2xx during the level (at least `toleranceMin`). */
  tolerancePct: number;
  toleranceMin: number;
  /** Seconds into a level at which its first backlog sample is taken (less than levelS). */
  settleS: number;
  /** Longest wait for the backlog to drain before each level. */
  drainS: number;
  /** A level must deliver at least this share of its offered rate. */
  deliveredShare: number;
}

export interface SustainedLevel {
  offeredPerSecond: number;
  deliveredPerSecond: number;
  responses2xx: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p99: number };
  backlogAtStart: number;
  backlogAtEnd: number;
  growth: number;
  tolerance: number;
  /** The backlog before the level had drained to this (the drain wait timed out when it is above the tolerance). */
  backlogBeforeDrainWait: number;
  flat: boolean;
  why?: string;
}

export interface SustainedRun {
  /** The delivered rate of the highest flat level, or 0 when none was flat. */
  sustainedPerSecond: number;
  /** The offered rate of that level. */
  sustainedLevel: number | null;
  /** Every level was flat: the figure is a lower bound. */
  everyLevelFlat: boolean;
  levels: SustainedLevel[];
}

/** One recurring item per order, as issue 11's row asks. */
export const RECURRING_ORDER_BODY = JSON.stringify({
  client: { identity: 'Bench Client Ltd', contact_point: 'orders@bench.example' },
  contents: [{ label: 'Monthly refill', kind: 'recurring', cost: 12.5, meta: { priority: 'normal', frequency: 'monthly' } }],
});

/** Recurring items the worker has not finished (received or processing). */
export const BACKLOG_SQL = "select count(*) as n from order_items where kind = 'recurring' and status in ('received', 'processing')";

export function pacedOrders(url: string, token: string, rate: number, durationS: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    overallRate: rate,
    duration: durationS,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: RECURRING_ORDER_BODY,
    requests: [{ method: 'POST', path: '/api/orders', setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }) }],
  });
}

async function waitForBacklog(backlog: () => Promise<number>, atMost: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await backlog();
    if (left <= atMost || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function sustainedRamp(
  target: { url: string; token: string; backlog: () => Promise<number> },
  settings: SustainedSettings,
  say: (text: string) => void,
): Promise<SustainedRun> {
  const levels: SustainedLevel[] = [];
  for (const rate of settings.rates) {
    const backlogBeforeDrainWait = await waitForBacklog(target.backlog, settings.toleranceMin, settings.drainS * 1000);
    // The first sample is taken `settleS` into the level, once the offered rate is flowing: the
    // backlog a steady rate keeps in flight (items received and not yet done) is not growth.
    const running = pacedOrders(target.url, target.token, rate, settings.levelS, settings.connections);
    await new Promise((resolve) => setTimeout(resolve, settings.settleS * 1000));
    const backlogAtStart = await target.backlog();
    const result = await running;
    const backlogAtEnd = await target.backlog();
    const delivered = result['2xx'] / (result.duration || settings.levelS);
    const tolerance = Math.max(settings.toleranceMin, Math.round((settings.tolerancePct / 100) * result['2xx']));
    const growth = backlogAtEnd - backlogAtStart;
    const why: string[] = [];
    if (growth > tolerance) why.push(`backlog grew by ${growth} (> ${tolerance})`);
    if (delivered < settings.deliveredShare * rate) why.push(`delivered ${Math.round(delivered)}/s of ${rate}/s offered`);
    if (result.non2xx + result.errors > 0) why.push(`${result.non2xx} non-2xx, ${result.errors} errors`);
    const level: SustainedLevel = {
      offeredPerSecond: rate,
      deliveredPerSecond: delivered,
      responses2xx: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      backlogAtStart,
      backlogAtEnd,
      growth,
      tolerance,
      backlogBeforeDrainWait,
      flat: why.length === 0,
      ...(why.length > 0 ? { why: why.join('; ') } : {}),
    };
    levels.push(level);
    say(`    ${rate}/s offered: ${Math.round(delivered)}/s delivered, backlog ${backlogAtStart} → ${backlogAtEnd}, p99 ${result.latency.p99} ms: ${level.flat ? 'flat' : `NOT flat (${level.why})`}`);
    if (!level.flat) break;
  }
  const flat = levels.filter((l) => l.flat);
  const best = flat[flat.length - 1];
  return {
    sustainedPerSecond: best?.deliveredPerSecond ?? 0,
    sustainedLevel: best?.offeredPerSecond ?? null,
    everyLevelFlat: flat.length === settings.rates.length,
    levels,
  };
}
