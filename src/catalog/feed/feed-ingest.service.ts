import type { Updateable } from 'kysely';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FeedConfig } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import type { Database, Executor } from '../../platform/db/database.js';
import type { Store } from '../../platform/store/store.js';
import type { FeedRunRow, FeedRunStatus, FeedRunsTable } from '../catalog.tables.js';
import { contentHash, validateFeedItem } from './feed-item.js';
import { parseFeed } from './feed-parser.js';
import { failInterruptedRuns, findFeedRun, findLastSuccessfulRun, insertFeedRun, listFeedRuns, updateFeedRun } from './feed-runs.repository.js';
import { openFeed, type FeedResponse } from './feed-source.js';
import { FeedStaging, type StagedItem } from './feed-staging.js';
import { findPornstarsByExternalIds, insertNewPornstars, listActivePornstars, markPornstarsRemoved, syncAliases, syncThumbnails, updatePornstar } from './feed.repository.js';
import { Lease, readLease, type LeaseHolder } from '../../platform/store/lease.js';
import { inSpan } from '../../platform/telemetry/tracing.js';
import type { FeedMetrics } from '../catalog.metrics.js';

type FeedBody = Extract<FeedResponse, { kind: 'body' }>;

/** Puts new image URLs into the download-once pipeline, in the caller's transaction. */
export interface ImageClaimer {
  claim(trx: Executor, urls: string[]): Promise<number>;
}

export interface FeedIngestDeps {
  database: Database;
  store: Store;
  clock: Clock;
  logger: Logger;
  config: FeedConfig;
  dataDir: string;
  images: ImageClaimer;
  metrics?: FeedMetrics;
}

export type FeedTrigger = FeedRunsTable['trigger'];

export interface IngestProgress {
  phase: 'reading' | 'applying' | 'removing';
  bytes: number;
  items: number;
  applied: number;
}

export interface IngestOptions {
  url?: string;
  trigger: FeedTrigger;
  onProgress?: (progress: IngestProgress) => void;
  /** Stops the run (SIGTERM, a worker forced to stop): it is recorded as failed and the lock is released. */
  signal?: AbortSignal;
}

export interface RunCounts {
  items_seen: number;
  created_count: number;
  updated_count: number;
  unchanged_count: number;
  removed_count: number;
  invalid_count: number;
  repaired_count: number;
  images_enqueued: number;
}

/** A run's counts and its first invalid items. Every item in the feed counts once in `items_seen`. */
class RunTally {
  readonly counts: RunCounts = { items_seen: 0, created_count: 0, updated_count: 0, unchanged_count: 0, removed_count: 0, invalid_count: 0, repaired_count: 0, images_enqueued: 0 };
  readonly invalidSamples: unknown[] = [];

  invalid(sample: unknown): void {
    this.counts.items_seen++;
    this.counts.invalid_count++;
    if (this.invalidSamples.length < MAX_INVALID_SAMPLES) this.invalidSamples.push(sample);
  }
}

export type IngestResult = { kind: 'locked'; heldBy: LeaseHolder | null } | { kind: 'finished'; run: FeedRunRow };

export class FeedFailure extends Error {}

const LOCK_KEY = 'lock:feed-ingest';
const LOOKUP_BATCH = 500;
const APPLY_BATCH = 250;
const MAX_INVALID_SAMPLES = 20;

/**
 * One ingestion run: conditional fetch, streaming parse and validation, change detection against
 * the stored hashes, then (only if the whole feed was sound) the changed items are applied in
 * short transactions and items that left the feed are soft-removed. One run at a time across all
 * instances, by a lock in the store.
 */
export class FeedIngestService {
  constructor(private readonly deps: FeedIngestDeps) {}

  /** The process whose ingestion holds the lock now (this one or another), or null. */
  holder(): Promise<LeaseHolder | null> {
    return readLease(this.deps.store, LOCK_KEY);
  }

  /** The most recent runs, newest first. */
  runs(limit: number): Promise<FeedRunRow[]> {
    return listFeedRuns(this.deps.database.db, limit);
  }

  async ingest(options: IngestOptions): Promise<IngestResult> {
    const { store, clock, database, logger, config } = this.deps;
    const acquired = await Lease.acquire(store, LOCK_KEY, { ttlMs: config.lockLeaseMs, clock, logger });
    if ('heldBy' in acquired) return { kind: 'locked', heldBy: acquired.heldBy };
    const { lease } = acquired;
    const signal = options.signal ? AbortSignal.any([options.signal, lease.lost]) : lease.lost;
    try {
      await database.write((db) => failInterruptedRuns(db, clock.now()));
      const source = options.url ?? config.url;
      const runId = await database.write((db) => insertFeedRun(db, { status: 'running', trigger: options.trigger, source, started_at: clock.now() }));
      const log = logger.child({ feedRun: runId });
      log.info({ source, trigger: options.trigger }, 'feed ingestion started');
      const attributes = { 'intake.feed.run_id': runId, 'intake.feed.trigger': options.trigger };
      const run = await inSpan('feed run', { attributes }, async (span) => {
        const finished = await this.execute(runId, source, options, signal, log);
        span.setAttributes({ 'intake.feed.status': finished.status, 'intake.feed.created': finished.created_count, 'intake.feed.updated': finished.updated_count });
        return finished;
      });
      this.deps.metrics?.recordRun(run);
      log.info({ status: run.status, error: run.error, created: run.created_count, updated: run.updated_count, removed: run.removed_count, invalid: run.invalid_count }, 'feed ingestion finished');
      return { kind: 'finished', run };
    } finally {
      await lease.release();
    }
  }

  private async execute(runId: number, source: string, options: IngestOptions, signal: AbortSignal, log: Logger): Promise<FeedRunRow> {
    const { database, clock } = this.deps;
    const previous = await findLastSuccessfulRun(database.db);
    const sameSource = previous?.source === source ? previous : undefined;
    const tally = new RunTally();
    const details: Updateable<FeedRunsTable> = {};
    let status: FeedRunStatus = 'failed';
    let error: string | null = null;
    let staging: FeedStaging | undefined;
    try {
      // Made before the feed is opened, so that its failure never leaves a response body unread.
      staging = new FeedStaging(path.join(this.deps.dataDir, 'feed', `run-${runId}.ndjson`));
      const response = await openFeed(source, { etag: sameSource?.etag ?? null, lastModified: sameSource?.last_modified ?? null }, { ...this.deps.config, signal });
      details.http_status = response.httpStatus;
      if (response.kind === 'not_modified') status = 'not_modified';
      else status = await this.ingestBody(response, previous, staging, tally, details, signal, options.onProgress);
    } catch (caught) {
      status = 'failed';
      error = signal.aborted ? `interrupted: ${reasonOf(signal)}` : caught instanceof Error ? caught.message : String(caught);
      log.warn({ err: caught }, 'feed ingestion failed; the catalog keeps its previous state');
    } finally {
      await staging?.discard().catch(() => undefined);
    }
    if (details.warning) log.warn({ itemsDeclared: details.items_declared, itemsSeen: tally.counts.items_seen }, details.warning);
    const samples = tally.invalidSamples.length > 0 ? JSON.stringify(tally.invalidSamples) : null;
    await database.write((db) => updateFeedRun(db, runId, { ...details, ...tally.counts, status, error, invalid_samples: samples, finished_at: clock.now() }));
    return findFeedRun(database.db, runId);
  }

  /** Reads and judges the whole body, then applies what changed: a failure before the apply changes nothing. */
  private async ingestBody(
    response: FeedBody,
    previous: FeedRunRow | undefined,
    staging: FeedStaging,
    tally: RunTally,
    details: Updateable<FeedRunsTable>,
    signal: AbortSignal,
    onProgress: IngestOptions['onProgress'],
  ): Promise<FeedRunStatus> {
    const { counts } = tally;
    const progress = (phase: IngestProgress['phase'], applied = 0) => onProgress?.({ phase, bytes: response.meter.bytes, items: counts.items_seen, applied });
    details.etag = response.validators.etag;
    details.last_modified = response.validators.lastModified;
    const seen = await this.readItems(response.body, staging, tally, details, signal, () => progress('reading'));
    await staging.close();
    details.bytes = response.meter.bytes;
    details.body_sha256 = response.meter.sha256();
    details.warning = reconcile(counts, details.items_declared ?? null);
    this.assertSound(counts, previous, details.items_declared ?? null);
    const identical =
      previous?.body_sha256 === details.body_sha256 || (previous?.generation_date != null && previous.generation_date === details.generation_date && staging.count === 0);
    await this.apply(staging, counts, signal, (applied) => progress('applying', applied));
    if (this.deps.config.removal === 'soft') {
      progress('removing');
      counts.removed_count = await this.removeMissing(seen, signal);
    }
    return identical && counts.created_count + counts.updated_count + counts.removed_count === 0 ? 'unchanged' : 'succeeded';
  }

  /** Parses, validates and sorts every item; returns the ids the feed holds. */
  private async readItems(
    body: AsyncIterable<Buffer>,
    staging: FeedStaging,
    tally: RunTally,
    details: Updateable<FeedRunsTable>,
    signal: AbortSignal,
    onBatch: () => void,
  ): Promise<Set<string>> {
    const seen = new Set<string>();
    let pending: Array<{ item: StagedItem['item']; hash: string }> = [];
    const flush = async () => {
      signal.throwIfAborted();
      await this.detectChanges(pending, staging, tally.counts);
      pending = [];
      onBatch();
    };
    for await (const event of parseFeed(body)) {
      if (event.kind === 'header') details.generation_date = event.generationDate ?? null;
      else if (event.kind === 'end') {
        tally.counts.repaired_count = event.repaired;
        details.items_declared = event.itemsCount;
      }
      else if (event.kind === 'invalid') tally.invalid({ line: event.line, errors: [event.reason] });
      else {
        const checked = validateFeedItem(event.value);
        if (!checked.ok) tally.invalid({ line: event.line, id: checked.id, errors: checked.errors.slice(0, 3) });
        else if (seen.has(checked.item.externalId)) tally.invalid({ line: event.line, id: checked.item.externalId, errors: ['id: appears more than once in the feed'] });
        else {
          tally.counts.items_seen++;
          seen.add(checked.item.externalId);
          pending.push({ item: checked.item, hash: contentHash(checked.item) });
          if (pending.length >= LOOKUP_BATCH) await flush();
        }
      }
    }
    await flush();
    return seen;
  }

  /** Sorts a batch into created, updated and unchanged by the stored content hash; stages the first two. */
  private async detectChanges(batch: Array<{ item: StagedItem['item']; hash: string }>, staging: FeedStaging, counts: RunCounts): Promise<void> {
    if (batch.length === 0) return;
    const existing = await findPornstarsByExternalIds(this.deps.database.db, batch.map((b) => b.item.externalId));
    for (const { item, hash } of batch) {
      const stored = existing.get(item.externalId);
      if (!stored) {
        counts.created_count++;
        await staging.add({ item, contentHash: hash });
      } else if (stored.content_hash !== hash || stored.removed_at !== null) {
        counts.updated_count++;
        await staging.add({ item, contentHash: hash, existingId: stored.id });
      } else {
        counts.unchanged_count++;
      }
    }
  }

  /** Guard rails against a broken feed wiping or corrupting the catalog. */
  private assertSound(counts: RunCounts, previous: FeedRunRow | undefined, declared: number | null): void {
    const total = counts.items_seen;
    if (total === 0) throw new FeedFailure('the feed holds no items');
    const { maxInvalidRatio } = this.deps.config;
    const ratio = counts.invalid_count / total;
    if (ratio > maxInvalidRatio) {
      throw new FeedFailure(`${counts.invalid_count} of ${total} items are invalid (${(ratio * 100).toFixed(1)} % > FEED_MAX_INVALID_RATIO ${maxInvalidRatio * 100} %)`);
    }
    const valid = total - counts.invalid_count;
    if (declared !== null && declared - valid > declared * maxInvalidRatio) {
      const short = ((declared - valid) / declared) * 100;
      throw new FeedFailure(`the feed declares itemsCount ${declared} but only ${valid} items could be ingested (${short.toFixed(1)} % short > FEED_MAX_INVALID_RATIO ${maxInvalidRatio * 100} %)`);
    }
    const before = previous ? previous.items_seen - previous.invalid_count : 0;
    if (before > 0 && valid < before * this.deps.config.minItemsRatio) {
      throw new FeedFailure(`the feed holds ${valid} valid items, fewer than FEED_MIN_ITEMS_RATIO (${this.deps.config.minItemsRatio}) × the ${before} of the last successful run`);
    }
  }

  private async apply(staging: FeedStaging, counts: RunCounts, signal: AbortSignal, onApplied: (applied: number) => void): Promise<void> {
    let applied = 0;
    for await (const batch of staging.batches(APPLY_BATCH)) {
      signal.throwIfAborted();
      // Not flushed batch by batch: a lost batch is staged again by the next run (its items keep
      // their old hashes), and the run's final record is a durable commit that flushes them all.
      counts.images_enqueued += await this.deps.database.transaction(async (trx) => {
        const now = this.deps.clock.now();
        await insertNewPornstars(trx, batch.filter((staged) => staged.existingId === undefined), now);
        for (const { item, contentHash: hash, existingId } of batch) {
          if (existingId === undefined) continue;
          await updatePornstar(trx, existingId, item, hash, now);
          await syncAliases(trx, existingId, item.aliases, now);
          await syncThumbnails(trx, existingId, item.thumbnails, now);
        }
        return this.deps.images.claim(trx, batch.flatMap(({ item }) => item.thumbnails.flatMap((t) => t.urls)));
      }, { durable: false });
      applied += batch.length;
      onApplied(applied);
    }
  }

  private async removeMissing(seen: Set<string>, signal: AbortSignal): Promise<number> {
    let removed = 0;
    let afterId = 0;
    for (;;) {
      signal.throwIfAborted();
      const page = await listActivePornstars(this.deps.database.db, afterId, 1000);
      if (page.length === 0) return removed;
      afterId = page[page.length - 1]!.id;
      const gone = page.filter((row) => !seen.has(row.external_id)).map((row) => row.id);
      if (gone.length > 0) removed += await this.deps.database.write((db) => markPornstarsRemoved(db, gone, this.deps.clock.now()));
    }
  }
}

/** A warning when the envelope's `itemsCount` disagrees with the items the feed holds. */
function reconcile(counts: RunCounts, declared: number | null): string | null {
  if (declared === null || declared === counts.items_seen) return null;
  return `the feed declares itemsCount ${declared} but holds ${counts.items_seen} items (${counts.items_seen - counts.invalid_count} ingested)`;
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
