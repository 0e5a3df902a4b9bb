import type { Generated, Insertable, Selectable } from 'kysely';

export interface IdempotencyKeysTable {
  id: Generated<number>;
  /** Whose key it is, e.g. `user:42`: keys are never shared across users. */
  scope: string;
  key: string;
  fingerprint: string;
  status_code: number;
  /** The response body exactly as first sent. */
  response_body: string;
  /** JSON object of response headers to replay (e.g. Location). */
  response_headers: string;
  created_at: number;
  expires_at: number;
}

export type IdempotencyRecord = Selectable<IdempotencyKeysTable>;
export type NewIdempotencyRecord = Insertable<IdempotencyKeysTable>;

export interface IdempotencyTables {
  idempotency_keys: IdempotencyKeysTable;
}
