import type { Migration } from 'kysely';
import { columnTypes } from '../columns.js';
import type { Dialect } from '../database.js';
import { platformTables } from './001-platform.js';
import { authTables } from './002-auth.js';
import { ordersTables } from './003-orders.js';
import { idempotencyTables } from './004-idempotency.js';
import { catalogTables } from './005-catalog.js';
import { outboxTables } from './006-outbox.js';
import { thumbnailSource } from './007-thumbnail-source.js';
import { feedRunReconcileColumns } from './008-feed-run-reconcile.js';
import { catalogSearch } from './009-catalog-search.js';
import { feedStageTables } from './010-feed-stage.js';
import { webhookTables } from './011-webhooks.js';
import { deliveryEventKey } from './012-delivery-event-key.js';
import { outboundDestinationTables } from './013-outbound-destinations.js';
import { queueHistoryTables } from './014-queue-history.js';
import { queueControlTables } from './015-queue-controls.js';
import { jobAttemptTables } from './016-job-attempts.js';
import { catalogReads } from './017-catalog-reads.js';
import { catalogChanges } from './018-catalog-changes.js';
import { catalogFullText } from './019-catalog-fulltext.js';

/** The one migration set, rendered for a dialect. Names sort in the order they must run. */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  const types = columnTypes(dialect);
  return {
    '001-platform': platformTables(types),
    '002-auth': authTables(types),
    '003-orders': ordersTables(types),
    '004-idempotency': idempotencyTables(types),
    '005-catalog': catalogTables(types),
    '006-outbox': outboxTables(types),
    '007-thumbnail-source': thumbnailSource(types),
    '008-feed-run-reconcile': feedRunReconcileColumns(types),
    '009-catalog-search': catalogSearch(types),
    '010-feed-stage': feedStageTables(types),
    '011-webhooks': webhookTables(types),
    '012-delivery-event-key': deliveryEventKey(types),
    '013-outbound-destinations': outboundDestinationTables(types),
    '014-queue-history': queueHistoryTables(types),
    '015-queue-controls': queueControlTables(types),
    '016-job-attempts': jobAttemptTables(types),
    '017-catalog-reads': catalogReads(types),
    '018-catalog-changes': catalogChanges(types),
    '019-catalog-fulltext': catalogFullText(types),
  };
}
