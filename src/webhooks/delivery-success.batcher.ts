import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { WriteBatcher, type WriteBatchLimits } from '../platform/db/write-batcher.js';
import { markEndpointsSucceeded, recordSuccesses, type DeliverySuccess } from './webhook-dispatch.repository.js';

/** `last_success_at` is kept to this precision: a busy endpoint's row is not rewritten by every delivery. */
const LAST_SUCCESS_PRECISION_MS = 60_000;

export interface Success extends DeliverySuccess {
  endpointId: number;
  /** The endpoint as the delivery was loaded: a run of failures to end, and when it last succeeded. */
  failingSince: number | null;
  lastSuccessAt: number | null;
}

/**
 * The successes of concurrent deliveries, written together: one statement for the deliveries, and
 * one for the endpoints whose run of failures ends or whose last success is over a minute old.
 * Each call resolves once the transaction holding it has committed.
 */
export class DeliverySuccessBatcher {
  private readonly batcher: WriteBatcher<Success, void>;

  constructor(database: Database, clock: Clock, limits: WriteBatchLimits) {
    this.batcher = new WriteBatcher<Success, void>({
      ...limits,
      database,
      write: async (db, successes) => {
        const now = clock.now();
        const stale = successes.filter((s) => s.failingSince !== null || s.lastSuccessAt === null || now - s.lastSuccessAt >= LAST_SUCCESS_PRECISION_MS);
        const endpointIds = [...new Set(stale.map((s) => s.endpointId))];
        // No transaction around the two: most batches write the deliveries alone, in one statement.
        // The endpoints go first, so that whoever sees a delivery succeeded sees its endpoint's
        // failures ended too. A crash between them leaves the deliveries pending: their jobs send
        // them again, and the endpoint did answer, so its run of failures has ended either way.
        await markEndpointsSucceeded(db, endpointIds, now);
        await recordSuccesses(db, successes, now);
        return successes.map(() => undefined);
      },
    });
  }

  record(success: Success): Promise<void> {
    return this.batcher.submit(success);
  }
}
