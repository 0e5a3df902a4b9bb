export interface QueueHistoryTable {
  queue: string;
  /** 60,000 or 300,000: which history the row belongs to. */
  bucket_ms: number;
  bucket_start: number;
  completed: number;
  retried: number;
  failed: number;
  parked: number;
  /** Attempts that started in the bucket; their waits for a worker add up to `wait_total_ms`. */
  started: number;
  wait_total_ms: number;
  wait_max_ms: number;
}

export interface QueueHistoryTables {
  queue_history: QueueHistoryTable;
}

export type HistoryCounts = Omit<QueueHistoryTable, 'queue' | 'bucket_ms' | 'bucket_start'>;

/** The counts that add up when buckets (or the counts of several processes) are merged; `wait_max_ms` takes the larger. */
export const SUMMED_HISTORY_COLUMNS = ['completed', 'retried', 'failed', 'parked', 'started', 'wait_total_ms'] as const;
