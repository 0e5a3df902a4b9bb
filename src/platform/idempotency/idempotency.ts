import type { Clock } from '../clock.js';
import type { Database, Executor } from '../db/database.js';
import type { Store } from '../store/store.js';
import { deleteExpiredIdempotencyRecord, findIdempotencyRecord, insertIdempotencyRecord } from './idempotency.repository.js';
import type { IdempotencyRecord } from './idempotency.table.js';

export interface StoredResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

export type IdempotencyDecision =
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' }
  | { kind: 'proceed'; claim: IdempotencyClaim };

export interface IdempotencyClaim {
  scope: string;
  key: string;
  fingerprint: string;
  replacesExpired: boolean;
}

export interface IdempotencyOptions {
  database: Database;
  store: Store;
  clock: Clock;
  ttlMs: number;
  /** How long an in-flight request holds its key before another may try. */
  lockTtlMs?: number;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** `undefined` when absent; `null` when malformed (empty, over 255 chars, not printable ASCII). */
export function parseIdempotencyKey(header: string | string[] | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) return null;
  return header.length > 0 && header.length <= 255 && PRINTABLE_ASCII.test(header) ? header : null;
}

/**
 * The Idempotency-Key protocol (draft-ietf-httpapi-idempotency-key-header): a finished response is
 * recorded in the same transaction as the business write and replayed byte for byte; a different
 * payload under the key is refused; a request still in flight holds a lock in the store.
 */
export class Idempotency {
  private readonly lockTtlMs: number;

  constructor(private readonly o: IdempotencyOptions) {
    this.lockTtlMs = o.lockTtlMs ?? 60_000;
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    const existing = await this.decideFromRecord(scope, key, fingerprint);
    if (existing.decision) return existing.decision;
    if (!(await this.o.store.setIfAbsent(this.lockKey(scope, key), fingerprint, this.lockTtlMs))) {
      const afterRace = await this.decideFromRecord(scope, key, fingerprint);
      return afterRace.decision ?? { kind: 'in_flight' };
    }
    return { kind: 'proceed', claim: { scope, key, fingerprint, replacesExpired: existing.expired } };
  }

  /** Records the response inside the business transaction. */
  async record(trx: Executor, claim: IdempotencyClaim, response: StoredResponse): Promise<void> {
    const now = this.o.clock.now();
    if (claim.replacesExpired) await deleteExpiredIdempotencyRecord(trx, claim.scope, claim.key, now);
    await insertIdempotencyRecord(trx, {
      scope: claim.scope,
      key: claim.key,
      fingerprint: claim.fingerprint,
      status_code: response.statusCode,
      response_body: response.body,
      response_headers: JSON.stringify(response.headers),
      created_at: now,
      expires_at: now + this.o.ttlMs,
    });
  }

  /** Frees the key of a request that did not commit, so that the client may retry at once. */
  release(claim: IdempotencyClaim): Promise<void> {
    return this.o.store.delete(this.lockKey(claim.scope, claim.key));
  }

  private async decideFromRecord(scope: string, key: string, fingerprint: string): Promise<{ decision?: IdempotencyDecision; expired: boolean }> {
    const record = await findIdempotencyRecord(this.o.database.db, scope, key);
    if (!record) return { expired: false };
    if (record.expires_at <= this.o.clock.now()) return { expired: true };
    if (record.fingerprint !== fingerprint) return { decision: { kind: 'mismatch' }, expired: false };
    return { decision: { kind: 'replay', response: toStoredResponse(record) }, expired: false };
  }

  private lockKey(scope: string, key: string): string {
    return `idempotency:${scope}:${key}`;
  }
}

function toStoredResponse(record: IdempotencyRecord): StoredResponse {
  return { statusCode: record.status_code, body: record.response_body, headers: JSON.parse(record.response_headers) as Record<string, string> };
}
