import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { FeedConfig } from '../../config.js';
import type { Clock } from '../../platform/clock.js';
import type { Database, Executor } from '../../platform/db/database.js';
import type { Store } from '../../platform/store/store.js';
import type { FeedRunRow, FeedRunStatus, FeedRunsTable } from '../catalog.tables.js';
import { refreshCatalogStatistics } from './catalog-statistics.repository.js';
import { childrenHash, contentHash, validateFeedItem } from './feed-item.js';
import { parseFeed } from './feed-parser.js';
import { failInterruptedRuns, findFeedRun, findLastSuccessfulRun, holdRunningRun, insertFeedRun, countFeedRuns, listFeedRuns, updateFeedRun } from './feed-runs.repository.js';
import { openFeed, type FeedResponse } from './feed-source.js';
import { deleteAbandonedPending, insertPendingPornstars, pendingPornstarIds, unclaimedUrlsOf } from './feed-pending.repository.js';
import { clearStage, stageItems, unclaimedStagedUrls, type StagedItem } from './feed-stage.repository.js';
import { applyRun } from './feed-swap.repository.js';
import { findPornstarsByExternalIds, listActivePornstars } from './feed.repository.js';
import { Lease, readLease, type LeaseHolder } from '../../platform/store/lease.js';
import { inSpan } from '../../platform/telemetry/tracing.js';
import { TimeSlice } from '../../platform/time-slice.js';
import type { FeedMetrics } from '../catalog.metrics.js';
import { countCatalogChange } from '../catalog-versions.repository.js';
import { takeChangeSeq } from '../catalog-changes.repository.js';

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
  images: ImageClaimer;
  metrics?: FeedMetrics;
}

export type FeedTrigger = FeedRunsTable['trigger'];

export interface IngestProgress {
  /** reading (and staging), applying (claiming new images), removing (finding the items that left the feed), committing (the one transaction). */
  phase: 'reading' | 'applying' | 'removing' | 'committing';
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

/** What one run's body goes through the phases with. */
interface RunContext {
  runId: number;
  response: FeedBody;
  previous: FeedRunRow | undefined;
  tally: RunTally;
  details: Updateable<FeedRunsTable>;
  signal: AbortSignal;
  log: Logger;
  onProgress: IngestOptions['onProgress'];
}

export type IngestResult = { kind: 'locked'; heldBy: LeaseHolder | null } | { kind: 'finished'; run: FeedRunRow };

export class FeedFailure extends Error {}

/**
 * A run that wrote at least a tenth of its items (PostgreSQL's own threshold for an automatic
 * analyze), a first run included.
 */
function changedMuch(run: FeedRunRow): boolean {
  const changed = run.created_count + run.updated_count + run.removed_count;
  return run.status === 'succeeded' && changed > 0 && changed >= run.items_seen / 10;
}

/** What change detection found and the next write transaction holds. */
interface PendingWrites {
  created: Array<{ item: StagedItem['item']; contentHash: string }>;
  staged: StagedItem[];
}

const LOCK_KEY = 'lock:feed-ingest';
const LOOKUP_BATCH = 100;
/**
 * New and changed items written per transaction. Fewer, larger transactions write each page of
 * the hash-keyed indexes (thumbnail URLs, images, jobs) once per batch instead of once per lookup
 * batch, and on SQLite reach WAL checkpoints less often; a batch still commits in tens of
 * milliseconds, which is all an API write waits for meanwhile.
 */
const WRITE_BATCH = 500;
const CLAIM_BATCH = 500;
const MAX_INVALID_SAMPLES = 20;

/**
 * One ingestion run: conditional fetch, streaming parse and validation, change detection against
 * the stored hashes. New items are inserted as they come, pending (hidden from readers), and
 * changed ones staged. Only if the whole feed was sound are their images claimed, then the run
 * made visible in one short transaction: pending rows published, the stage applied, the items
 * that left the feed soft-removed, the run recorded. Whatever stops a run before that (an error,
 * SIGTERM, `kill -9`), readers keep the catalog as it was. One run at a time across all instances,
 * by a lease in the store.
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

  /** A page of the runs, newest first, with how many there are. */
  async runsPage(page: { limit: number; offset: number }): Promise<{ runs: FeedRunRow[]; total: number }> {
    const db = this.deps.database.db;
    const [runs, total] = await Promise.all([listFeedRuns(db, page.limit, page.offset), countFeedRuns(db)]);
    return { runs, total };
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
    const record = (status: FeedRunStatus, error: string | null): Updateable<FeedRunsTable> => ({
      ...details,
      ...tally.counts,
      status,
      error,
      invalid_samples: tally.invalidSamples.length > 0 ? JSON.stringify(tally.invalidSamples) : null,
      finished_at: clock.now(),
    });
    let recorded = false;
    let status: FeedRunStatus = 'failed';
    let error: string | null = null;
    try {
      await this.discardUnfinished();
      const response = await openFeed(source, { etag: sameSource?.etag ?? null, lastModified: sameSource?.last_modified ?? null }, { ...this.deps.config, signal });
      details.http_status = response.httpStatus;
      if (response.kind === 'not_modified') status = 'not_modified';
      else {
        const commit = (trx: Executor, finalStatus: FeedRunStatus) => updateFeedRun(trx, runId, record(finalStatus, null));
        status = await this.ingestBody({ runId, response, previous, tally, details, signal, log, onProgress: options.onProgress }, commit);
        recorded = true;
      }
    } catch (caught) {
      status = 'failed';
      error = signal.aborted ? `interrupted: ${reasonOf(signal)}` : caught instanceof Error ? caught.message : String(caught);
      log.warn({ err: caught }, 'feed ingestion failed; the catalog keeps its previous state');
    }
    await this.discardUnfinished().catch((caught: unknown) => log.warn({ err: caught }, 'could not discard the run\'s pending and staged rows; the next run will'));
    if (details.warning) log.warn({ itemsDeclared: details.items_declared, itemsSeen: tally.counts.items_seen }, details.warning);
    if (!recorded) await database.write((db) => updateFeedRun(db, runId, record(status, error)));
    const run = await findFeedRun(database.db, runId);
    if (changedMuch(run)) await this.refreshStatistics(log);
    return run;
  }

  /** After a run that changed much of the catalog: statistics of its new shape for the planner. Worth a warning if it fails, never the run. */
  private async refreshStatistics(log: Logger): Promise<void> {
    const started = performance.now();
    try {
      if (await refreshCatalogStatistics(this.deps.database.db)) log.info({ ms: Math.round(performance.now() - started) }, 'catalog statistics refreshed for the query planner');
    } catch (caught) {
      log.warn({ err: caught }, 'could not refresh the catalog statistics; reads may be planned poorly until the database does');
    }
  }

  /** What a run that did not finish left (pending pornstars, the stage) is of no use: each run reads the feed anew. */
  private async discardUnfinished(): Promise<void> {
    await deleteAbandonedPending(this.deps.database.db);
    await this.deps.database.write((db) => clearStage(db));
  }

  /**
   * Reads, judges and stages the whole body, claims the new images, finds the items that left the
   * feed, then applies all of it with the run's record (`commit`) in one transaction.
   */
  private async ingestBody(run: RunContext, commit: (trx: Executor, status: FeedRunStatus) => Promise<void>): Promise<FeedRunStatus> {
    const { runId, response, previous, tally, details, signal, log, onProgress } = run;
    const { counts } = tally;
    let phase: IngestProgress['phase'] = 'reading';
    const progress = (next: IngestProgress['phase'], applied = 0) => {
      if (next !== phase) log.info({ phase: next, items: counts.items_seen, created: counts.created_count, updated: counts.updated_count }, `feed run ${next}`);
      phase = next;
      onProgress?.({ phase, bytes: response.meter.bytes, items: counts.items_seen, applied });
    };
    details.etag = response.validators.etag;
    details.last_modified = response.validators.lastModified;
    const seen = await this.readItems(runId, response.body, tally, details, signal, () => progress('reading'));
    details.bytes = response.meter.bytes;
    details.body_sha256 = response.meter.sha256();
    details.warning = reconcile(counts, details.items_declared ?? null);
    this.assertSound(counts, previous, details.items_declared ?? null);
    const identical =
      previous?.body_sha256 === details.body_sha256 ||
      (previous?.generation_date != null && previous.generation_date === details.generation_date && counts.created_count + counts.updated_count === 0);
    progress('applying');
    counts.images_enqueued = await this.claimImages(runId, signal, (claimed) => progress('applying', claimed));
    progress('removing');
    const removedIds = this.deps.config.removal === 'soft' ? await this.findRemoved(seen, signal) : [];
    signal.throwIfAborted();
    progress('committing', counts.created_count + counts.updated_count);
    return this.deps.database.transaction(async (trx) => {
      const now = this.deps.clock.now();
      if (!(await holdRunningRun(trx, runId, now))) throw new FeedFailure('another process took the feed lease and interrupted this run before its commit');
      // An unchanged run writes nothing to the catalog: no change number, no version.
      if (counts.created_count + counts.updated_count + removedIds.length > 0) {
        counts.removed_count = (await applyRun(trx, runId, removedIds, now, await takeChangeSeq(trx))).removed;
        await countCatalogChange(trx, now);
      }
      const status = identical && counts.created_count + counts.updated_count + counts.removed_count === 0 ? 'unchanged' : 'succeeded';
      await commit(trx, status);
      return status;
    });
  }

  /** Parses, validates and sorts every item; returns the ids the feed holds. */
  private async readItems(
    runId: number,
    body: AsyncIterable<Buffer>,
    tally: RunTally,
    details: Updateable<FeedRunsTable>,
    signal: AbortSignal,
    onBatch: () => void,
  ): Promise<Set<string>> {
    const seen = new Set<string>();
    const slice = new TimeSlice();
    let pending: Array<{ item: StagedItem['item']; hash: string }> = [];
    const writes: PendingWrites = { created: [], staged: [] };
    const flush = async (last: boolean) => {
      signal.throwIfAborted();
      await this.detectChanges(pending, tally.counts, writes);
      pending = [];
      if (last || writes.created.length + writes.staged.length >= WRITE_BATCH) await this.writeChanges(runId, writes);
      onBatch();
    };
    for await (const event of parseFeed(body)) {
      await slice.pause();
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
          if (pending.length >= LOOKUP_BATCH) await flush(false);
        }
      }
    }
    await flush(true);
    return seen;
  }

  /** Sorts a batch into created, updated and unchanged by the stored content hash; adds the first two to `writes`. */
  private async detectChanges(batch: Array<{ item: StagedItem['item']; hash: string }>, counts: RunCounts, writes: PendingWrites): Promise<void> {
    if (batch.length === 0) return;
    const existing = await findPornstarsByExternalIds(this.deps.database.db, batch.map((b) => b.item.externalId));
    for (const { item, hash } of batch) {
      const stored = existing.get(item.externalId);
      if (!stored) {
        counts.created_count++;
        writes.created.push({ item, contentHash: hash });
      } else if (stored.content_hash !== hash || stored.removed_at !== null) {
        counts.updated_count++;
        writes.staged.push({ item, contentHash: hash, existingId: stored.id, childrenChanged: stored.children_hash !== childrenHash(item) });
      } else {
        counts.unchanged_count++;
      }
    }
  }

  /** Inserts the new items pending and stages the changed ones, then empties `writes`. */
  private async writeChanges(runId: number, writes: PendingWrites): Promise<void> {
    if (writes.created.length + writes.staged.length === 0) return;
    const { database, clock } = this.deps;
    // Not flushed batch by batch: these rows are of use only to this run, whose last transaction is a durable commit.
    await database.transaction(
      async (trx) => {
        await insertPendingPornstars(trx, runId, writes.created, clock.now());
        await stageItems(trx, writes.staged, clock.now());
      },
      { durable: false },
    );
    writes.created = [];
    writes.staged = [];
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

  /**
   * Claims the image URLs of the run's new and changed items that no image row has yet, in short
   * transactions: their downloads start before the catalog shows them. A run that stops later
   * leaves only those claims behind, which the next run's items use.
   */
  private async claimImages(runId: number, signal: AbortSignal, onClaimed: (claimed: number) => void): Promise<number> {
    const { database, images } = this.deps;
    const slice = new TimeSlice();
    let claimed = 0;
    const claim = async (urls: string[]) => {
      signal.throwIfAborted();
      await slice.pause();
      if (urls.length > 0) claimed += await database.transaction((trx) => images.claim(trx, urls), { durable: false });
      onClaimed(claimed);
    };
    for (let afterId = 0; ; ) {
      const ids = await pendingPornstarIds(database.db, runId, afterId, CLAIM_BATCH);
      if (ids.length === 0) break;
      afterId = ids[ids.length - 1]!;
      await claim(await unclaimedUrlsOf(database.db, ids));
    }
    for (let afterId = 0; ; ) {
      const page = await unclaimedStagedUrls(database.db, afterId, CLAIM_BATCH);
      if (page.length === 0) break;
      afterId = page[page.length - 1]!.id;
      await claim(page.map((row) => row.url));
    }
    return claimed;
  }

  /** The active pornstars whose items are not in the feed. */
  private async findRemoved(seen: Set<string>, signal: AbortSignal): Promise<number[]> {
    const removed: number[] = [];
    for (let afterId = 0; ; ) {
      signal.throwIfAborted();
      const page = await listActivePornstars(this.deps.database.db, afterId, 1000);
      if (page.length === 0) return removed;
      afterId = page[page.length - 1]!.id;
      for (const row of page) if (!seen.has(row.external_id)) removed.push(row.id);
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
