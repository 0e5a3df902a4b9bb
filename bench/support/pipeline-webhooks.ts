/**
 * The webhook side of the pipeline benchmark. Rows 8 and 9: one endpoint of the seeded user,
 * subscribed to `order.item.completed`, so that every item's outcome also sends one webhook.
 * Rows 10 and 11, the floor: every item's outcome POSTs its signed webhook straight from the
 * worker, with nothing recorded and no queue. Rows 12 and 13, the durable floor: the same, plus the
 * least a durable design writes (a delivery row in the outcome's transaction, its success after).
 */
import type { Config } from '../../src/config.js';
import type { Container } from '../../src/app/container.js';
import { afterCommit } from '../../src/platform/db/commit-hooks.js';
import type { Executor } from '../../src/platform/db/database.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import { WriteBatcher } from '../../src/platform/db/write-batcher.js';
import { timeOrderedId } from '../../src/platform/ids.js';
import type { WebhooksTables } from '../../src/webhooks/webhooks.tables.js';
import { insertEndpoint } from '../../src/webhooks/webhook-endpoints.repository.js';
import { insertDeliveries, insertEvents } from '../../src/webhooks/webhook-events.repository.js';
import { WebhookEvents, type NewWebhookEvent } from '../../src/webhooks/webhook-events.js';
import { generateSecret } from '../../src/webhooks/webhook-secret.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import { webhookHeaders } from '../../src/webhooks/webhook-signature.js';
import { startIntakePipeline, type Pipeline } from './pipeline-drivers.js';

const tables = tablesOf<WebhooksTables>();

/** An endpoint of the user at `url`, subscribed to `events` (rows 8 and 9: `order.item.completed`). */
export async function subscribeEndpoint(container: Container, userId: number, url: string, events = ['order.item.completed']): Promise<number> {
  const now = Date.now();
  const none = { previous_secret: null, previous_secret_until: null, disabled_reason: null, disabled_at: null, failing_since: null, last_success_at: null };
  const row = await insertEndpoint(container.database.db, { user_id: userId, url, description: 'pipeline bench', events: JSON.stringify(events), secret: generateSecret(), enabled: 1, created_at: now, updated_at: now, ...none });
  return Number(row.id);
}

/**
 * Events recorded as every row records them, and each `order.item.completed` also POSTed at once,
 * signed, through intake's own sender, from the worker, once the outcome's transaction has
 * committed. No job and no retry. The bare floor writes nothing more: a crash loses the webhook, so no
 * design can cost less. The durable floor also writes the least a durable design must: a pending
 * delivery row in the outcome's transaction, and its success afterwards (batched, as intake's are).
 */
class InlineWebhooks extends WebhookEvents {
  readonly failures: string[] = [];
  private readonly secret = generateSecret();
  private readonly successes?: WriteBatcher<string, void>;

  constructor(
    private readonly container: Container,
    private readonly url: string,
    private readonly sender: WebhookSender,
    /** The durable floor's: the endpoint its delivery rows name. */
    private readonly durableEndpointId?: number,
  ) {
    super({ queue: container.queue, clock: container.clock, maxAttempts: 1 });
    if (durableEndpointId === undefined) return;
    this.successes = new WriteBatcher<string, void>({
      ...container.config.jobWriteBatch,
      database: container.database,
      write: async (db, messageIds) => {
        const now = Date.now();
        await tables(db)
          .updateTable('webhook_deliveries')
          .set({ status: 'succeeded', attempts: 1, last_status_code: 204, finished_at: now, updated_at: now })
          .where('message_id', 'in', messageIds)
          .where('status', '=', 'pending')
          .execute();
        return messageIds.map(() => undefined);
      },
    });
  }

  override async publish(db: Executor, events: readonly NewWebhookEvent[]): Promise<void> {
    const now = Date.now();
    const timestamp = new Date(now).toISOString();
    const rows = events.map((event) => ({ id: timeOrderedId('evt', now), user_id: event.userId, type: event.type, body: JSON.stringify({ type: event.type, timestamp, data: event.data }), created_at: now }));
    await insertEvents(db, rows);
    const sends = rows.filter((row) => row.type === 'order.item.completed').map((row) => ({ id: timeOrderedId('msg', now), eventId: row.id, body: row.body }));
    if (this.durableEndpointId !== undefined && sends.length > 0) {
      const endpoint_id = this.durableEndpointId;
      await insertDeliveries(db, sends.map((send) => ({ message_id: send.id, endpoint_id, event_id: send.eventId, status: 'pending' as const, next_attempt_at: now, created_at: now, updated_at: now })));
    }
    afterCommit(db, () => {
      for (const send of sends) void this.post(send);
    });
  }

  /** Delivery rows the durable floor left pending (none when every POST succeeded and was written). */
  async pending(): Promise<number> {
    const row = await tables(this.container.database.db).selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number | string>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async post({ id, body }: { id: string; body: string }): Promise<void> {
    const message = { id, timestamp: Math.floor(Date.now() / 1000), body };
    const result = await this.sender.send(this.url, body, webhookHeaders(message, [this.secret]));
    if (result.kind === 'answered' && result.statusCode < 300) return this.successes?.submit(id);
    this.failures.push(result.kind === 'answered' ? `answered ${result.statusCode}` : result.error);
  }
}

/**
 * Row 1 or 2's pipeline whose every item outcome also POSTs its webhook inline (see
 * `InlineWebhooks`); `durable` adds the delivery rows, on an endpoint of the seeded user that
 * subscribes to nothing (so that intake's own publish sends none). Call `seeded` once the user exists.
 */
export async function startInlineWebhookPipeline(config: Config, durable: boolean): Promise<Pipeline> {
  const pipeline = await startIntakePipeline(config);
  const { container } = pipeline;
  const webhooks = config.webhooks;
  const sender = new WebhookSender({
    timeoutMs: webhooks.timeoutMs,
    allowHttp: webhooks.allowHttp,
    allowPrivateHosts: webhooks.allowPrivateHosts,
    connectionsPerOrigin: webhooks.endpointConcurrency,
    userAgent: 'intake-bench',
  });
  const url = config.thirdPartyUrl!.replace(/\/orders$/, '/webhooks');
  let inline: InlineWebhooks | undefined;
  return {
    ...pipeline,
    async seeded(userId) {
      const endpointId = durable ? await subscribeEndpoint(container, userId, url, []) : undefined;
      inline = new InlineWebhooks(container, url, sender, endpointId);
      // The worker's order handler reads the container's events when it records an outcome.
      container.webhookEvents = inline;
    },
    async leftovers() {
      const left = await pipeline.leftovers();
      // Before the run (the check for an earlier run's jobs) there is nothing inline yet.
      if (!inline) return left;
      if (inline.failures.length > 0) left.push(`${inline.failures.length} inline webhooks failed (first: ${inline.failures[0]})`);
      const pending = durable ? await inline.pending() : 0;
      if (pending > 0) left.push(`${pending} delivery rows still pending`);
      return left;
    },
    async stop() {
      await pipeline.stop();
      await sender.close();
    },
  };
}
