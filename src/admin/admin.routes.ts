import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import type { QueueHistory } from '../platform/queue/queue-history.js';
import type { Clock } from '../platform/clock.js';
import type { CircuitsService } from '../platform/outbound/circuits.service.js';
import type { Queue } from '../platform/queue/queue.js';
import { pauseView, type QueuePauses } from '../platform/queue/queue-pauses.js';
import { oldestWaitMs } from '../platform/queue/queue-wait.js';
import { offsetOf, paginate } from '../platform/http/pagination.js';
import { Message, PageOf, PageQuery, pageOf, ParkedJobOutput, PurgeBody, QueueOverviewOutput, QueueParams, RetryBody } from './admin.schemas.js';

export interface AdminRoutesDeps {
  queue: Queue;
  /** The job queues operators may inspect and re-drive. */
  queueNames: readonly string[];
  history: QueueHistory;
  pauses: QueuePauses;
  tokens: TokenVerifier;
  clock: Clock;
  /** QUEUE_WAIT_WARN_S, in milliseconds. */
  waitWarnMs: number;
  /** The queues whose every job goes to one destination (JobDefinition.destination), and the circuits that hold them. */
  destinations: ReadonlyMap<string, string>;
  circuits: CircuitsService;
}

const THROUGHPUT_MINUTES = 5;

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };

/** The operator API (ability `admin`): queues, parked jobs and their re-drive. */
export async function adminRoutes(app: FastifyInstance, deps: AdminRoutesDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));
  const known = (queue: string) => {
    if (!deps.queueNames.includes(queue)) throw httpErrors.notFound(`No queue named "${queue}".`);
    return queue;
  };

  app.get(
    '/api/admin/queues',
    {
      schema: {
        ...secured,
        summary: 'Every job queue with its depth by state and priority, its pause (if an operator paused it), its hold (while its one destination is held), and the jobs finished per minute over the last minutes (all workers)',
        response: { 200: Type.Object({ data: Type.Array(QueueOverviewOutput) }), ...denied },
      },
    },
    async () => {
      const paused = await deps.pauses.all();
      const data = await Promise.all(
        deps.queueNames.map(async (queue) => {
          const stats = await deps.queue.stats(queue);
          const longWait = (oldestWaitMs(stats, deps.clock.now()) ?? 0) > deps.waitWarnMs;
          const destination = deps.destinations.get(queue);
          const held = destination === undefined ? null : await deps.circuits.holdOf(destination);
          return { ...stats, paused: pauseView(paused.get(queue)), held, throughput: await deps.history.recent(queue, THROUGHPUT_MINUTES), longWait, waitWarnS: deps.waitWarnMs / 1000 };
        }),
      );
      return { data };
    },
  );

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof PageQuery> }>(
    '/api/admin/queues/:queue/parked',
    {
      schema: {
        ...secured,
        summary: 'Parked (dead-lettered) jobs of a queue, a page at a time, with payload, last error and attempts',
        params: QueueParams,
        querystring: PageQuery,
        response: { 200: PageOf(ParkedJobOutput), 404: Message, ...denied },
      },
    },
    async (request) => {
      const queue = known(request.params.queue);
      const page = pageOf(request.query);
      const [jobs, stats] = await Promise.all([deps.queue.parked(queue, { limit: page.perPage, offset: offsetOf(page) }), deps.queue.stats(queue)]);
      return paginate(jobs, stats.counts.parked, page, `/api/admin/queues/${encodeURIComponent(queue)}/parked`);
    },
  );

  app.post<{ Params: Static<typeof QueueParams>; Body: Static<typeof RetryBody> }>(
    '/api/admin/queues/:queue/parked/retry',
    {
      schema: {
        ...secured,
        summary: 'Re-drive parked jobs (some, or "all") with fresh attempts',
        params: QueueParams,
        body: RetryBody,
        response: { 200: Type.Object({ retried: Type.Integer() }), 404: Message, 422: Message, ...denied },
      },
    },
    async (request) => ({ retried: await deps.queue.retryParked(known(request.params.queue), request.body.ids) }),
  );

  app.post<{ Params: Static<typeof QueueParams>; Body: Static<typeof PurgeBody> }>(
    '/api/admin/queues/:queue/parked/purge',
    {
      schema: {
        ...secured,
        summary: 'Delete parked jobs (the given ids, or every one); the body must say `confirm: true`',
        params: QueueParams,
        body: PurgeBody,
        response: { 200: Type.Object({ purged: Type.Integer() }), 404: Message, 422: Message, ...denied },
      },
    },
    async (request) => ({ purged: await deps.queue.purgeParked(known(request.params.queue), request.body.ids) }),
  );
}
