import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { systemClock, systemRandom, type Clock, type Random } from '../../clock.js';
import type { Database } from '../../db/database.js';
import { retryDelayMs } from '../backoff.js';
import type { BackoffPolicy, Priority } from '../queue.js';
import { activeTraceparent, inSpan, SpanKind } from '../../telemetry/tracing.js';
import type { OutboxQueue } from './outbox-queue.js';
import * as outboxSql from './outbox.repository.js';
import type { OutboxRow } from './outbox.table.js';

export interface OutboxRelayOptions {
  /** Its outbox rows are published through `queue.inner`; its commits wake the relay. */
  queue: OutboxQueue;
  database: Database;
  logger: Logger;
  /** Rows claimed and published together per round. Default 256. */
  batchSize?: number;
  /** How long a claim keeps other relays off its rows; must outlast publishing one batch. Default 30 s. */
  leaseMs?: number;
  /** Longest pause between polls of an empty outbox. Default 1 s. */
  maxIdleMs?: number;
  /** Delay before a failed publish is retried, and the relay's pause while every publish fails. */
  retry?: BackoffPolicy;
  clock?: Clock;
  random?: Random;
}

interface Round {
  claimed: number;
  published: number;
  failed: number;
}

const MIN_IDLE_MS = 10;
// A lost claim, delete or release leaves the row as an expired lease would: published (again) later.
const NOT_FLUSHED = { durable: false } as const;

/**
 * Publishes committed outbox rows to the inner queue, at least once: claims a batch under a
 * lease, publishes it concurrently, deletes what was published and gives failures back with a
 * capped backoff. Several relays may share one outbox; a lease keeps them off each other's rows.
 */
export class OutboxRelay {
  private readonly claimedBy = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxIdleMs: number;
  private readonly retry: BackoffPolicy;
  private readonly clock: Clock;
  private readonly random: Random;
  private running = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private woken = false;
  private wake: (() => void) | undefined;
  private idleMs = MIN_IDLE_MS;
  private failedRounds = 0;

  constructor(private readonly o: OutboxRelayOptions) {
    this.batchSize = o.batchSize ?? 256;
    this.leaseMs = o.leaseMs ?? 30_000;
    this.maxIdleMs = o.maxIdleMs ?? 1_000;
    this.retry = o.retry ?? { baseMs: 200, maxMs: 30_000 };
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? systemRandom;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.queue.onCommitted(this.onCommitted);
    this.loop = this.poll();
  }

  /**
   * Stops claiming; resolves once the batch in flight is published and deleted (or given back),
   * or at `deadlineMs` if a publish hangs: its rows are then published again once their lease expires.
   */
  async stop(deadlineMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const finished = await Promise.race([this.loop!.then(() => true), deadline]);
    clearTimeout(timer);
    if (!finished) this.o.logger.warn({ deadlineMs }, 'outbox relay stopped with a batch still publishing; its lease will expire');
  }

  private readonly onCommitted = (): void => {
    this.woken = true;
    this.idleMs = MIN_IDLE_MS;
    this.wake?.();
  };

  private async poll(): Promise<void> {
    while (this.running) {
      this.woken = false;
      const round = await this.round().catch((error: unknown): Round => {
        this.o.logger.error({ err: error }, 'outbox relay round failed; backing off');
        return { claimed: 0, published: 0, failed: 1 };
      });
      if (!this.running) return;
      if (round.failed > 0 && round.published === 0) {
        // Every publish failed (the broker or the database is down): pause whatever commits, so
        // that a backlog is not swept through failing publishes.
        this.failedRounds += 1;
        await this.sleep(retryDelayMs(this.failedRounds, this.retry, this.random), false);
        continue;
      }
      this.failedRounds = 0;
      if (round.claimed > 0) {
        this.idleMs = MIN_IDLE_MS;
        continue;
      }
      await this.sleep(this.idleMs, true);
      this.idleMs = Math.min(this.maxIdleMs, this.idleMs * 2);
    }
  }

  private async round(): Promise<Round> {
    const now = this.clock.now();
    const claim = { limit: this.batchSize, now, claimedUntil: now + this.leaseMs, claimedBy: this.claimedBy };
    const rows = await this.o.database.write((db) => outboxSql.claimOutboxRows(db, this.o.database.dialect, claim), NOT_FLUSHED);
    if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
    return this.o.queue.transfer(async () => {
      const publishedAt = this.clock.now();
      const outcomes = await Promise.allSettled(rows.map((row) => this.publish(row, publishedAt)));
      const published = rows.filter((_, i) => outcomes[i]!.status === 'fulfilled');
      const failed = rows.flatMap((row, i) => {
        const outcome = outcomes[i]!;
        return outcome.status === 'rejected' ? [{ row, error: outcome.reason as unknown }] : [];
      });
      const ids = published.map((row) => row.id);
      await this.o.database.write((db) => outboxSql.deleteOutboxRows(db, ids, this.claimedBy), NOT_FLUSHED);
      if (failed.length > 0) await this.release(failed);
      return { claimed: rows.length, published: published.length, failed: failed.length };
    });
  }

  /**
   * A row enqueued inside a trace is published in a span of that trace, and the job carries the
   * publish span's context on: otherwise the relay (a loop outside any request) would publish it
   * in a trace of its own, and the broker's spans would be cut off from the order's trace.
   */
  private async publish(row: OutboxRow, now: number): Promise<void> {
    const headers = JSON.parse(row.headers) as Record<string, string>;
    const send = (carried: Record<string, string>) =>
      this.o.queue.inner.enqueue(row.queue, JSON.parse(row.payload), {
        priority: row.priority as Priority,
        delayMs: delayLeft(row, now),
        headers: carried,
        dedupeKey: row.dedupe_key ?? undefined,
        maxAttempts: row.max_attempts ?? undefined,
      });
    const { traceparent } = headers;
    if (!traceparent) return send(headers);
    const span = { kind: SpanKind.PRODUCER, traceparent, attributes: { 'messaging.destination.name': row.queue } };
    await inSpan(`publish ${row.queue}`, span, () => send({ ...headers, traceparent: activeTraceparent() ?? traceparent }));
  }

  private async release(failed: Array<{ row: OutboxRow; error: unknown }>): Promise<void> {
    const attempts = Math.max(...failed.map(({ row }) => row.attempts)) + 1;
    const delayMs = retryDelayMs(attempts, this.retry, this.random);
    const first = failed[0]!.error;
    const message = first instanceof Error ? first.message : String(first);
    this.o.logger.warn({ err: first, rows: failed.length, attempts, retryInMs: delayMs }, 'publishing outbox rows failed; will retry');
    const ids = failed.map(({ row }) => row.id);
    await this.o.database.write((db) => outboxSql.releaseOutboxRows(db, ids, this.claimedBy, this.clock.now() + delayMs, message), NOT_FLUSHED);
  }

  /** A wakeable sleep ends early on a commit in this process; any sleep ends on stop(). */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => {
        if (wakeable || !this.running) done();
      };
    });
  }
}

/**
 * A job enqueued without a delay is published without one, whatever the clocks say: the row may
 * come from another host whose clock runs ahead, or have been committed while the claim ran, and
 * the broker would send a few milliseconds of "delay" through its smallest retry tier.
 */
function delayLeft(row: OutboxRow, now: number): number {
  return row.available_at > row.created_at ? Math.max(0, row.available_at - now) : 0;
}
