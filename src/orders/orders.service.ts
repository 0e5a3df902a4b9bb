import type { Logger } from 'pino';
import { fingerprint } from '../platform/canonical-json.js';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { LogFlushError } from '../platform/db/group-commit.js';
import type { Principal } from '../platform/http/authentication.js';
import { ConflictError, InFlightError, NotFoundError, ValidationError } from '../platform/errors/domain-errors.js';
import type { FieldErrors } from '../platform/errors/field-errors.js';
import { offsetOf, type PageRequest } from '../platform/http/pagination.js';
import { IdempotencyKeyTaken, type Idempotency, type IdempotencyClaim, type IdempotencyRefusal, type StoredResponse } from '../platform/idempotency/idempotency.js';
import { enqueueJobs } from '../platform/queue/jobs.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import type { Priority, TransactionalQueue } from '../platform/queue/queue.js';
import type { Store } from '../platform/store/store.js';
import { orderIntegrationJob } from './orders.jobs.js';
import { presentOrder, type OrderView } from './orders.presenter.js';
import { countAllOrders, countOrdersForUser, findOrderForUser, findRecentDuplicate, insertOrder, insertOrderItems, listItemsOfOrders, listOrdersForUser, listOrdersOfEveryone, type OperatorOrderFilter } from './orders.repository.js';
import { validateOrder, type OrderInput } from './orders.validation.js';

export interface OrdersDeps {
  database: Database;
  queue: TransactionalQueue;
  store: Store;
  idempotency: Idempotency;
  clock: Clock;
  logger: Logger;
  duplicateWindowSeconds: number;
  metrics: Metrics;
}

/** An order as operators see it: with its owner. */
export type OperatorOrderView = OrderView & { user_id: number; user: { id: number; name: string; email: string } };

export interface CreateOrderRequest {
  principal: Principal;
  body: unknown;
  /** Errors of the route's JSON schema, merged into one ValidationError with the service's own checks. */
  schemaErrors?: FieldErrors;
  /** Set when the client sent an Idempotency-Key. */
  idempotency?: IdempotentRequest;
  /** Carried by each item's job to the third party. */
  traceparent?: string;
}

/** A client's Idempotency-Key (1 to 255 printable ASCII characters), and the answer to record for it. */
export interface IdempotentRequest {
  key: string;
  /** The answer the client gets for the stored order: recorded in the order's transaction, so that a repeat gets these bytes. */
  answer: (order: OrderView) => StoredResponse;
}

/**
 * A new order (with the answer recorded for its Idempotency-Key, if it had one), or, for a
 * repeated key, the answer recorded for the request that first used it.
 */
export type CreatedOrder = { replayed: false; order: OrderView; recorded?: StoredResponse } | { replayed: true; response: StoredResponse };

export class OrdersService {
  private readonly created;
  private readonly replays;
  private readonly duplicates;

  constructor(private readonly deps: OrdersDeps) {
    this.created = deps.metrics.counter('orders_created_total', 'Orders stored');
    this.replays = deps.metrics.counter('idempotency_replays_total', 'Responses replayed for a repeated Idempotency-Key');
    this.duplicates = deps.metrics.counter('duplicate_orders_total', 'Orders refused by the duplicate guard (409)');
  }

  async create(request: CreateOrderRequest): Promise<CreatedOrder> {
    const input = validateOrder(request.body, request.schemaErrors ?? {});
    const { userId } = request.principal;
    return request.idempotency === undefined
      ? this.createGuarded(userId, input, request.traceparent)
      : this.createIdempotent(userId, request.idempotency, request.body, input, request.traceparent);
  }

  async get(principal: Principal, orderId: number): Promise<OrderView> {
    const order = await findOrderForUser(this.deps.database.db, principal.userId, orderId);
    if (!order) throw new NotFoundError('Order not found.');
    return presentOrder(order, await listItemsOfOrders(this.deps.database.db, [order.id]));
  }

  async list(principal: Principal, page: PageRequest): Promise<{ orders: OrderView[]; total: number }> {
    // Order history may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [orders, total] = await Promise.all([
        listOrdersForUser(db, principal.userId, page.perPage, offsetOf(page)),
        countOrdersForUser(db, principal.userId),
      ]);
      const items = await listItemsOfOrders(db, orders.map((o) => o.id));
      return { orders: orders.map((order) => presentOrder(order, items.filter((i) => i.order_id === order.id))), total };
    });
  }

  /** The newest orders of every user with their owner and their items' statuses, for operators; may be a little stale. */
  everyone(page: PageRequest, filter: OperatorOrderFilter = {}): Promise<{ orders: OperatorOrderView[]; total: number }> {
    return this.deps.database.readStale(async (db) => {
      const [orders, total] = await Promise.all([listOrdersOfEveryone(db, page.perPage, offsetOf(page), filter), countAllOrders(db, filter)]);
      const items = await listItemsOfOrders(db, orders.map((o) => o.id));
      const view = (order: (typeof orders)[number]): OperatorOrderView => ({
        ...presentOrder(order, items.filter((i) => i.order_id === order.id)),
        user_id: order.user_id,
        user: { id: order.user_id, name: order.user_name, email: order.user_email },
      });
      return { orders: orders.map(view), total };
    });
  }

  private async createIdempotent(userId: number, request: IdempotentRequest, body: unknown, input: OrderInput, traceparent?: string): Promise<CreatedOrder> {
    const decision = await this.deps.idempotency.begin(`user:${userId}`, request.key, fingerprint(body));
    if (decision.kind !== 'proceed') return this.refuse(decision);
    try {
      const created = await this.persist(userId, input, contentHashOf(input), traceparent, { claim: decision.claim, answer: request.answer });
      this.deps.idempotency.committed(decision.claim);
      return created;
    } catch (error) {
      await this.deps.idempotency.release(decision.claim).catch((e: unknown) => this.deps.logger.warn({ err: e }, 'could not release an idempotency key'));
      if (error instanceof IdempotencyKeyTaken) return this.refuse(error.refusal);
      throw error;
    }
  }

  private refuse(refusal: IdempotencyRefusal): CreatedOrder {
    switch (refusal.kind) {
      case 'replay':
        this.replays.inc();
        return { replayed: true, response: refusal.response };
      case 'mismatch':
        throw new ValidationError({}, 'The Idempotency-Key has already been used with a different request payload.');
      case 'in_flight':
        throw new InFlightError('A request with this Idempotency-Key is still being processed.', 1);
    }
  }

  private async createGuarded(userId: number, input: OrderInput, traceparent?: string): Promise<CreatedOrder> {
    const windowMs = this.deps.duplicateWindowSeconds * 1000;
    const contentHash = contentHashOf(input);
    if (windowMs === 0) return this.persist(userId, input, contentHash, traceparent);
    const guardKey = `orders:duplicate:${userId}:${contentHash}`;
    if (!(await this.deps.store.setIfAbsent(guardKey, '1', windowMs))) {
      const since = this.deps.clock.now() - windowMs;
      this.duplicates.inc();
      const orderId = await findRecentDuplicate(this.deps.database.db, userId, contentHash, since);
      throw new ConflictError(`Duplicate order: the same order was submitted within the last ${this.deps.duplicateWindowSeconds} seconds.`, {
        order_id: orderId ?? null,
      });
    }
    try {
      return await this.persist(userId, input, contentHash, traceparent);
    } catch (error) {
      // The order committed (only its flush to the disk failed): a retry is a duplicate.
      if (error instanceof LogFlushError) throw error;
      await this.deps.store.delete(guardKey).catch((e: unknown) => this.deps.logger.warn({ err: e }, 'could not release the duplicate guard'));
      throw error;
    }
  }

  /**
   * The order, its items, one job per recurring item and the idempotency record: one transaction.
   * It only inserts new rows, so it interleaves with the other orders of its group-commit batch,
   * and each of its inserts is one multi-row statement for the whole batch.
   */
  private async persist(
    userId: number,
    input: OrderInput,
    contentHash: string,
    traceparent?: string,
    idempotent?: { claim: IdempotencyClaim; answer: IdempotentRequest['answer'] },
  ): Promise<CreatedOrder> {
    const headers = traceparent ? { traceparent } : undefined;
    const { database, queue, clock, idempotency } = this.deps;
    const stored = await database.transaction(async (trx) => {
      const now = clock.now();
      const order = await insertOrder(trx, {
        user_id: userId,
        client_identity: input.client.identity,
        client_contact_point: input.client.contact_point,
        content_hash: contentHash,
        created_at: now,
        updated_at: now,
      });
      const items = await insertOrderItems(
        trx,
        input.contents.map((item, position) => ({
          order_id: order.id,
          position,
          label: item.label,
          kind: item.kind,
          cost_cents: item.costCents,
          meta: JSON.stringify(item.meta),
          priority: item.priority,
          status: item.kind === 'single' ? 'completed' : 'received',
          details: null,
          created_at: now,
          updated_at: now,
        })),
      );
      const recurring = items.filter((item) => item.kind === 'recurring');
      await enqueueJobs(queue, orderIntegrationJob, recurring.map((item) => ({ payload: { itemId: item.id }, options: { priority: item.priority as Priority, headers } })), trx);
      const view = presentOrder(order, items);
      if (!idempotent) return { replayed: false as const, order: view };
      const recorded = idempotent.answer(view);
      await idempotency.record(trx, idempotent.claim, recorded);
      return { replayed: false as const, order: view, recorded };
    }, { interleave: true });
    this.created.inc();
    return stored;
  }
}

function contentHashOf(input: OrderInput): string {
  return fingerprint({ client: input.client, contents: input.contents });
}
