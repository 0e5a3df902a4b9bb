import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { NotFoundError } from '../platform/errors/domain-errors.js';
import { offsetOf, type PageRequest } from '../platform/http/pagination.js';
import type { WebhookEvents } from './webhook-events.js';
import {
  countDeliveriesByMinute,
  countEndpointsForOperators,
  countFailedDeliveriesByEndpoint,
  countOpenDeliveriesOf,
  failedDeliveryIdsOf,
  findEndpointForOperators,
  listEndpointsForOperators,
  type DeliveryOutcome,
  type EndpointFilter,
  type EndpointState,
  type OperatorEndpointRow,
} from './webhooks-overview.repository.js';

export type { EndpointFilter, EndpointState } from './webhooks-overview.repository.js';

export const ENDPOINT_STATES: readonly EndpointState[] = ['disabled', 'failing', 'enabled'];
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['succeeded', 'retrying', 'failed'];

/** Failed deliveries sent again per transaction by `retryFailed`. */
export const RETRY_BATCH = 500;
const MINUTE_MS = 60_000;

export interface OperatorEndpointView {
  id: number;
  user: { id: number; name: string; email: string };
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  state: EndpointState;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  last_success_at: number | null;
  created_at: number;
  deliveries: { pending: number; failed: number };
}

export type DeliveryMinute = { minute: number } & Record<DeliveryOutcome, number>;

export interface FailedDeliveries {
  /** Failed deliveries of enabled endpoints: what `retryFailed` sends again. */
  count: number;
  endpoints: Array<{ id: number; failed: number }>;
  /** Failed deliveries of disabled endpoints, left alone: their owner enables the endpoint first. */
  ofDisabled: number;
}

export interface WebhooksOperatorDeps {
  database: Database;
  /** Where failed deliveries are sent again from. */
  events: WebhookEvents;
  clock: Clock;
}

/** What operators see of every user's webhooks, and the re-drive of failed deliveries (CLI and operator API). */
export class WebhooksOperatorService {
  constructor(private readonly deps: WebhooksOperatorDeps) {}

  /** Endpoints of every user, disabled first, then failing (oldest failure first), then healthy. */
  endpoints(filter: EndpointFilter, page: PageRequest): Promise<{ endpoints: OperatorEndpointView[]; total: number }> {
    return this.deps.database.readStale(async (db) => {
      const [rows, total] = await Promise.all([listEndpointsForOperators(db, filter, page.perPage, offsetOf(page)), countEndpointsForOperators(db, filter)]);
      const counts = await countOpenDeliveriesOf(db, rows.map((row) => row.id));
      const countOf = (id: number, status: 'pending' | 'failed') => counts.find((c) => c.endpoint_id === id && c.status === status)?.count ?? 0;
      return { endpoints: rows.map((row) => present(row, { pending: countOf(row.id, 'pending'), failed: countOf(row.id, 'failed') })), total };
    });
  }

  /** Deliveries per minute by outcome over the last `minutes` minutes, oldest first; the last minute is still filling. */
  async deliveriesPerMinute(minutes: number): Promise<DeliveryMinute[]> {
    const now = this.deps.clock.now();
    const current = now - (now % MINUTE_MS);
    const first = current - (minutes - 1) * MINUTE_MS;
    const counts = await this.deps.database.readStale((db) => countDeliveriesByMinute(db, first));
    const byMinute = new Map<number, DeliveryMinute>();
    for (let minute = first; minute <= current; minute += MINUTE_MS) byMinute.set(minute, { minute, succeeded: 0, retrying: 0, failed: 0 });
    for (const { minute, outcome, count } of counts) {
      const entry = byMinute.get(minute);
      if (entry) entry[outcome] += count;
    }
    return [...byMinute.values()];
  }

  /** The failed deliveries that `retryFailed` would send again (of one endpoint, or of every endpoint). */
  async failedDeliveries(endpointId?: number): Promise<FailedDeliveries> {
    if (endpointId !== undefined) await this.endpointOrThrow(endpointId);
    const counts = await countFailedDeliveriesByEndpoint(this.deps.database.db, endpointId);
    const enabled = counts.filter((c) => c.enabled === 1);
    return {
      count: enabled.reduce((sum, c) => sum + c.count, 0),
      endpoints: enabled.map((c) => ({ id: c.endpoint_id, failed: c.count })),
      ofDisabled: counts.filter((c) => c.enabled !== 1).reduce((sum, c) => sum + c.count, 0),
    };
  }

  /**
   * Sends the failed deliveries of enabled endpoints again, `RETRY_BATCH` per transaction, each
   * with its delivery job. Returns how many were queued.
   */
  async retryFailed(endpointId?: number): Promise<number> {
    const { endpoints } = await this.failedDeliveries(endpointId);
    let queued = 0;
    for (const endpoint of endpoints) {
      for (let afterId = 0; ; ) {
        const batch = await this.deps.database.transaction(async (trx) => {
          const ids = await failedDeliveryIdsOf(trx, endpoint.id, afterId, RETRY_BATCH);
          return { ids, queued: await this.deps.events.redeliver(trx, ids) };
        });
        queued += batch.queued;
        if (batch.ids.length < RETRY_BATCH) break;
        afterId = batch.ids.at(-1)!;
      }
    }
    return queued;
  }

  private async endpointOrThrow(endpointId: number): Promise<void> {
    if (!(await findEndpointForOperators(this.deps.database.db, endpointId))) throw new NotFoundError(`No webhook endpoint ${endpointId}.`);
  }
}

function stateOf(row: Pick<OperatorEndpointRow, 'enabled' | 'failing_since'>): EndpointState {
  if (Number(row.enabled) !== 1) return 'disabled';
  return row.failing_since === null ? 'enabled' : 'failing';
}

function present(row: OperatorEndpointRow, deliveries: { pending: number; failed: number }): OperatorEndpointView {
  return {
    id: row.id,
    user: { id: row.user_id, name: row.user_name, email: row.user_email },
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    enabled: Number(row.enabled) === 1,
    state: stateOf(row),
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at,
    failing_since: row.failing_since,
    last_success_at: row.last_success_at,
    created_at: row.created_at,
    deliveries,
  };
}
