import type { Generated, Insertable, Selectable } from 'kysely';

export interface JobsTable {
  id: Generated<number>;
  queue: string;
  payload: string;
  headers: string;
  priority: number;
  state: 'ready' | 'active' | 'parked';
  attempts: Generated<number>;
  max_attempts: number;
  available_at: number;
  lease_until: number | null;
  locked_by: string | null;
  dedupe_key: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export type JobRow = Selectable<JobsTable>;
export type NewJobRow = Insertable<JobsTable>;

export interface QueueTables {
  jobs: JobsTable;
}
