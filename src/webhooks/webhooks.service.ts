import type { Updateable } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { WebhooksConfig } from '../config.js';
import type { Database } from '../platform/db/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors/domain-errors.js';
import { addFieldError, type FieldErrors } from '../platform/errors/field-errors.js';
import { offsetOf, type PageRequest } from '../platform/http/pagination.js';
import type { Principal } from '../platform/http/authentication.js';
import type { LookupFunction } from '../platform/net/ssrf.js';
import type { WebhookEvents } from './webhook-events.js';
import { countDeliveriesOfEndpoint, findDeliveryOfEndpoint, findEventSeqForUser, listDeliveriesOfEndpoint, listEventsForUser } from './webhook-log.repository.js';
import {
  countEndpointsForUser,
  deleteEndpointForUser,
  findEndpointForUser,
  insertEndpoint,
  listEndpointsForUser,
  lockEndpointIdsOfUser,
  updateEndpointForUser,
} from './webhook-endpoints.repository.js';
import { generateSecret } from './webhook-secret.js';
import { checkEndpointUrl } from './webhook-url.js';
import { presentDelivery, presentEndpoint, presentEvent, type DeliveryView, type EndpointView, type EventView } from './webhooks.presenter.js';
import type { WebhookEndpointRow, WebhookEndpointsTable, DeliveryStatus } from './webhooks.tables.js';
import { parseEventTypes, validateEndpointFields, type EndpointFields } from './webhooks.validation.js';

export interface WebhooksDeps {
  database: Database;
  /** Where a delivery is sent again from. */
  events: Pick<WebhookEvents, 'redeliver'>;
  clock: Clock;
  settings: Pick<WebhooksConfig, 'allowHttp' | 'allowPrivateHosts' | 'maxEndpointsPerUser' | 'secretOverlapHours' | 'logDays'>;
  /** DNS resolution for the URL policy; node:dns by default. */
  resolve?: LookupFunction;
}

/**
 * Events younger than this are not listed yet. A `seq` is drawn at insert, but on PostgreSQL and
 * MySQL transactions commit in any order: an event with a lower `seq` can become visible after one
 * with a higher `seq`, and a poller that had moved past the higher one would never see it. By two
 * seconds, the transaction that wrote an event has committed (or rolled back).
 */
export const EVENTS_SETTLE_MS = 2000;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface EventsRequest {
  since?: string;
  types?: string;
  limit: number;
}

/** Each user's webhook endpoints, their delivery log, redelivery, and the polling fallback. */
export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  async create(principal: Principal, body: unknown, schemaErrors: FieldErrors): Promise<{ webhook: EndpointView; secret: string }> {
    const fields = await this.validate(body, schemaErrors);
    const { database, clock, settings } = this.deps;
    const secret = generateSecret();
    const row = await database.transaction(async (trx) => {
      const existing = await lockEndpointIdsOfUser(trx, principal.userId);
      if (existing.length >= settings.maxEndpointsPerUser) {
        throw new ValidationError({}, `A user can have at most ${settings.maxEndpointsPerUser} webhook endpoints; delete one first.`);
      }
      const now = clock.now();
      return insertEndpoint(trx, {
        user_id: principal.userId,
        url: fields.url!,
        events: JSON.stringify(fields.events),
        description: fields.description ?? null,
        secret,
        previous_secret: null,
        previous_secret_until: null,
        enabled: 1,
        disabled_reason: null,
        disabled_at: null,
        failing_since: null,
        last_success_at: null,
        created_at: now,
        updated_at: now,
      });
    });
    return { webhook: presentEndpoint(row), secret };
  }

  async list(principal: Principal, page: PageRequest): Promise<{ webhooks: EndpointView[]; total: number }> {
    const { db } = this.deps.database;
    const [rows, total] = await Promise.all([listEndpointsForUser(db, principal.userId, page.perPage, offsetOf(page)), countEndpointsForUser(db, principal.userId)]);
    return { webhooks: rows.map(presentEndpoint), total };
  }

  async get(principal: Principal, endpointId: number): Promise<EndpointView> {
    return presentEndpoint(await this.endpointOf(principal, endpointId));
  }

  async update(principal: Principal, endpointId: number, body: unknown, schemaErrors: FieldErrors): Promise<EndpointView> {
    await this.endpointOf(principal, endpointId);
    const fields = await this.validate(body, schemaErrors);
    const { database, clock } = this.deps;
    const row = await database.transaction(async (trx) => {
      const current = await findEndpointForUser(trx, principal.userId, endpointId);
      if (!current) throw endpointNotFound();
      await updateEndpointForUser(trx, principal.userId, endpointId, changesOf(current, fields, clock.now()));
      return (await findEndpointForUser(trx, principal.userId, endpointId))!;
    });
    return presentEndpoint(row);
  }

  async remove(principal: Principal, endpointId: number): Promise<void> {
    if (!(await deleteEndpointForUser(this.deps.database.db, principal.userId, endpointId))) throw endpointNotFound();
  }

  /** A new secret; the old one still signs, beside it, for `secretOverlapHours`. */
  async rotateSecret(principal: Principal, endpointId: number): Promise<string> {
    const { database, clock, settings } = this.deps;
    const secret = generateSecret();
    await database.transaction(async (trx) => {
      const current = await findEndpointForUser(trx, principal.userId, endpointId);
      if (!current) throw endpointNotFound();
      const now = clock.now();
      await updateEndpointForUser(trx, principal.userId, endpointId, {
        secret,
        previous_secret: current.secret,
        previous_secret_until: now + settings.secretOverlapHours * HOUR_MS,
        updated_at: now,
      });
    });
    return secret;
  }

  async deliveries(principal: Principal, endpointId: number, status: DeliveryStatus | undefined, page: PageRequest): Promise<{ deliveries: DeliveryView[]; total: number }> {
    await this.endpointOf(principal, endpointId);
    // The log may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [rows, total] = await Promise.all([
        listDeliveriesOfEndpoint(db, endpointId, status, page.perPage, offsetOf(page)),
        countDeliveriesOfEndpoint(db, endpointId, status),
      ]);
      return { deliveries: rows.map(presentDelivery), total };
    });
  }

  /** Sends a finished delivery again, under the same `webhook-id`, with a fresh count of attempts. */
  async retry(principal: Principal, endpointId: number, deliveryId: number): Promise<DeliveryView> {
    const { database, events } = this.deps;
    const row = await database.transaction(async (trx) => {
      const endpoint = await findEndpointForUser(trx, principal.userId, endpointId);
      if (!endpoint) throw endpointNotFound();
      const delivery = await findDeliveryOfEndpoint(trx, endpointId, deliveryId);
      if (!delivery) throw new NotFoundError('Delivery not found.');
      if (!endpoint.enabled) throw new ConflictError('The webhook endpoint is disabled: enable it before retrying its deliveries.');
      if (delivery.status === 'pending' || (await events.redeliver(trx, [deliveryId])) === 0) {
        throw new ConflictError('The delivery is already pending.');
      }
      return (await findDeliveryOfEndpoint(trx, endpointId, deliveryId))!;
    });
    return presentDelivery(row);
  }

  /**
   * The user's events after `since`, oldest first, kept `logDays`, and settled (see
   * EVENTS_SETTLE_MS). Read from the primary: a lagging replica could show a later event without
   * an earlier one that committed after it, past the settle window.
   */
  async events(principal: Principal, request: EventsRequest): Promise<{ data: EventView[]; has_more: boolean }> {
    const { database, clock, settings } = this.deps;
    const errors: FieldErrors = {};
    const types = parseEventTypes(errors, request.types);
    const afterSeq = request.since === undefined ? undefined : await findEventSeqForUser(database.db, principal.userId, request.since);
    if (request.since !== undefined && afterSeq === undefined) {
      addFieldError(errors, 'since', `The selected since is invalid: no such event among yours (events are kept ${settings.logDays} days).`);
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    const now = clock.now();
    const rows = await listEventsForUser(database.db, principal.userId, {
      afterSeq,
      types,
      createdFrom: now - settings.logDays * DAY_MS,
      createdUntil: now - EVENTS_SETTLE_MS,
      limit: request.limit + 1,
    });
    return { data: rows.slice(0, request.limit).map(presentEvent), has_more: rows.length > request.limit };
  }

  private async endpointOf(principal: Principal, endpointId: number): Promise<WebhookEndpointRow> {
    const row = await findEndpointForUser(this.deps.database.db, principal.userId, endpointId);
    if (!row) throw endpointNotFound();
    return row;
  }

  /** The body's fields, with the URL policy (a DNS lookup) applied once the rest is known valid. */
  private async validate(body: unknown, schemaErrors: FieldErrors): Promise<EndpointFields> {
    const errors: FieldErrors = { ...schemaErrors };
    const fields = validateEndpointFields(body, errors);
    if (fields.url !== undefined) {
      const { allowHttp, allowPrivateHosts } = this.deps.settings;
      const checked = await checkEndpointUrl(fields.url, { allowHttp, allowPrivateHosts, resolve: this.deps.resolve });
      if (checked.ok) fields.url = checked.url;
      else addFieldError(errors, 'url', checked.reason);
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    return fields;
  }
}

function endpointNotFound(): NotFoundError {
  return new NotFoundError('Webhook endpoint not found.');
}

function changesOf(current: WebhookEndpointRow, fields: EndpointFields, now: number): Updateable<WebhookEndpointsTable> {
  const changes: Updateable<WebhookEndpointsTable> = { updated_at: now };
  if (fields.url !== undefined) changes.url = fields.url;
  if (fields.events !== undefined) changes.events = JSON.stringify(fields.events);
  if (fields.description !== undefined) changes.description = fields.description;
  const enabled = Boolean(Number(current.enabled));
  if (fields.enabled === true && !enabled) Object.assign(changes, { enabled: 1, disabled_reason: null, disabled_at: null, failing_since: null });
  if (fields.enabled === false && enabled) Object.assign(changes, { enabled: 0, disabled_reason: 'Disabled by its owner.', disabled_at: now });
  return changes;
}
