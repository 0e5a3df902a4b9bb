import type { Generated, Insertable, Selectable } from 'kysely';

/** Jobs written in a business transaction, waiting for a relay to publish them to the queue. */
export interface OutboxTable {
  id: Generated<number>;
  queue: string;
  payload: string;
  headers: string;
  priority: number;
  /** null: the queue's default. */
  max_attempts: number | null;
  dedupe_key: string | null;
  /** When the job becomes available (epoch ms); the relay publishes it at once with what is left of the delay. */
  available_at: number;
  /** Failed publishes so far. */
  attempts: Generated<number>;
  /** No relay claims the row before this: the lease of a live claim, or the retry time after a failed publish. */
  claimed_until: number | null;
  claimed_by: string | null;
  last_error: string | null;
  created_at: number;
}

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;

export interface OutboxTables {
  outbox: OutboxTable;
}
