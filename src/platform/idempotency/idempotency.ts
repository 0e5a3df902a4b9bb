import type { Clock } from '../clock.js';
import type { Database, Executor } from '../db/database.js';
import type { IdempotencyLocks } from './idempotency-locks.js';
import { deleteExpiredIdempotencyRecord, findIdempotencyRecord, insertIdempotencyRecordUnlessTaken, lockIdempotencyRecord } from './idempotency.repository.js';
import type { IdempotencyRecord } from './idempotency.table.js';

export interface StoredResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

/** What to answer a request whose key is held by another. */
export type IdempotencyRefusal = { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' } | { kind: 'in_flight' };

export type IdempotencyDecision = IdempotencyRefusal | { kind: 'proceed'; claim: IdempotencyClaim };

export interface IdempotencyClaim {
  scope: string;
  key: string;
  fingerprint: string;
}

/**
 * Thrown by `record` when the key turned out to be held by a finished request after all (its
 * lock had expired): the business transaction must roll back, and the caller answers `refusal`.
 */
export class IdempotencyKeyTaken extends Error {
  constructor(readonly refusal: IdempotencyRefusal) {
    super('The Idempotency-Key is held by another request');
  }
}

export interface IdempotencyOptions {
  database: Database;
  /** Where requests in flight hold their keys (idempotency-locks.ts). */
  locks: IdempotencyLocks;
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
 * payload under the key is refused; a request still in flight holds a lock (`locks`).
 *
 * A key whose lock is free is looked up only when its record's insert, in the business
 * transaction, finds the key taken: there is no read before the transaction on the hot path.
 */
export class Idempotency {
  private readonly lockTtlMs: number;

  constructor(private readonly o: IdempotencyOptions) {
    this.lockTtlMs = o.lockTtlMs ?? 60_000;
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    if (await this.o.locks.take(this.lockKey(scope, key), fingerprint, this.lockTtlMs)) return { kind: 'proceed', claim: { scope, key, fingerprint } };
    // Held by a request in flight, or by one that finished while its lock lasts.
    const record = await findIdempotencyRecord(this.o.database.db, scope, key);
    return this.refusalFrom(record, fingerprint) ?? { kind: 'in_flight' };
  }

  /** Records the response inside the business transaction; throws IdempotencyKeyTaken when another request holds the key. */
  async record(trx: Executor, claim: IdempotencyClaim, response: StoredResponse): Promise<void> {
    const now = this.o.clock.now();
    const values = {
      scope: claim.scope,
      key: claim.key,
      fingerprint: claim.fingerprint,
      status_code: response.statusCode,
      response_body: response.body,
      response_headers: JSON.stringify(response.headers),
      created_at: now,
      expires_at: now + this.o.ttlMs,
    };
    if (await insertIdempotencyRecordUnlessTaken(trx, values)) return;
    const refusal = this.refusalFrom(await lockIdempotencyRecord(trx, claim.scope, claim.key), claim.fingerprint);
    if (refusal) throw new IdempotencyKeyTaken(refusal);
    await deleteExpiredIdempotencyRecord(trx, claim.scope, claim.key, now);
    if (!(await insertIdempotencyRecordUnlessTaken(trx, values))) throw new IdempotencyKeyTaken({ kind: 'in_flight' });
  }

  /** Frees the key of a request that did not commit, so that the client may retry at once. */
  release(claim: IdempotencyClaim): Promise<void> {
    return this.o.locks.release(this.lockKey(claim.scope, claim.key));
  }

  /** Call once the transaction holding the claim's record has committed. */
  committed(claim: IdempotencyClaim): void {
    this.o.locks.committed(this.lockKey(claim.scope, claim.key));
  }

  /** The answer a live record gives to `fingerprint`; undefined when there is none or it expired. */
  private refusalFrom(record: IdempotencyRecord | undefined, fingerprint: string): IdempotencyRefusal | undefined {
    if (!record || record.expires_at <= this.o.clock.now()) return undefined;
    if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return { kind: 'replay', response: toStoredResponse(record) };
  }

  private lockKey(scope: string, key: string): string {
    return `idempotency:${scope}:${key}`;
  }
}

function toStoredResponse(record: IdempotencyRecord): StoredResponse {
  return { statusCode: record.status_code, body: record.response_body, headers: JSON.parse(record.response_headers) as Record<string, string> };
}
