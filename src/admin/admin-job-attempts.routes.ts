import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { paginate } from '../platform/http/pagination.js';
import { ATTEMPT_OUTCOMES } from '../platform/queue/job-attempts.table.js';
import { RECENT_COUNT_LIMIT, RECENT_KINDS, type JobAttemptsService } from '../platform/queue/job-attempts.service.js';
import type { JobState } from '../platform/queue/queue.js';
import { Message, PageOf, PageQuery, pageOf, QueueParams } from './admin.schemas.js';

export interface AdminJobAttemptsDeps {
  jobs: JobAttemptsService;
  queueNames: readonly string[];
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const STATES: JobState[] = ['ready', 'delayed', 'active', 'parked'];
const Outcome = Type.Union(ATTEMPT_OUTCOMES.map((outcome) => Type.Literal(outcome)));

const RecentQuery = Type.Object({
  ...PageQuery.properties,
  outcome: Type.Optional(
    Type.Union(RECENT_KINDS.map((kind) => Type.Literal(kind)), {
      description: "The latest attempt's outcome: `completed`, `failed` (failed for good, or parked; the default) or `retried` (a retry is due)",
    }),
  ),
});

const RecentJobOutput = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  attempt: Type.Integer(),
  outcome: Outcome,
  at: Type.Number({ description: 'When the latest attempt started, or when the job was parked (epoch ms)' }),
  durationMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  priority: Nullable(Type.Integer()),
  payloadSummary: Nullable(Type.String({ description: "The start of the payload's JSON" })),
});

const RecentOutput = Type.Object({
  ...PageOf(RecentJobOutput).properties,
  totalCapped: Type.Boolean({ description: `true: more jobs match than the ${RECENT_COUNT_LIMIT.toLocaleString('en')} counted and paged` }),
});

const JobParams = Type.Object({ ...QueueParams.properties, id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[!-~]+$', description: 'The job id: printable ASCII' }) });

const AttemptOutput = Type.Object({
  attempt: Type.Integer(),
  outcome: Outcome,
  startedAt: Type.Number({ description: 'When the attempt started, or when the job was parked (epoch ms)' }),
  durationMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  process: Nullable(Type.String({ description: 'host:pid of the worker' })),
});

const JobDetailOutput = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  state: Nullable(Type.Union(STATES.map((state) => Type.Literal(state)), { description: 'null: finished, or unknown to the driver (see `searched`)' })),
  searched: Type.Union([Type.Literal('all'), Type.Literal('parked')], { description: '`parked`: the driver can look among the parked jobs only (RabbitMQ)' }),
  payload: Type.Unknown(),
  headers: Nullable(Type.Record(Type.String(), Type.String())),
  traceId: Nullable(Type.String({ description: 'From the `traceparent` header' })),
  priority: Nullable(Type.Integer()),
  enqueuedAt: Nullable(Type.Number()),
  attemptsMade: Nullable(Type.Integer({ description: 'While the queue holds the job' })),
  maxAttempts: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  attempts: Type.Array(AttemptOutput, { description: 'Every recorded attempt, oldest first, with its parking and first deferrals' }),
});

/** The attempt log for operators (ability `admin`): the recent finished jobs of a queue, and one job with every attempt. */
export async function adminJobAttemptsRoutes(app: FastifyInstance, deps: AdminJobAttemptsDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));
  const known = (queue: string) => {
    if (!deps.queueNames.includes(queue)) throw httpErrors.notFound(`No queue named "${queue}".`);
    return queue;
  };

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof RecentQuery> }>(
    '/api/admin/queues/:queue/recent',
    {
      schema: {
        ...secured,
        summary: "A queue's recently finished jobs by their latest attempt's outcome (completed, failed or parked, retried), newest first, a page at a time (JOB_ATTEMPT_LOG)",
        params: QueueParams,
        querystring: RecentQuery,
        response: { 200: RecentOutput, 404: Message, ...denied },
      },
    },
    async (request) => {
      const queue = known(request.params.queue);
      const page = pageOf(request.query);
      const outcome = request.query.outcome ?? 'failed';
      const { jobs, total, totalCapped } = await deps.jobs.recent(queue, outcome, page);
      return { ...paginate(jobs, total, page, `/api/admin/queues/${encodeURIComponent(queue)}/recent`, { outcome }), totalCapped };
    },
  );

  app.get<{ Params: Static<typeof JobParams> }>(
    '/api/admin/queues/:queue/jobs/:id',
    {
      schema: {
        ...secured,
        summary: 'One job: its state if the queue still holds it, payload, headers, trace id, and every recorded attempt (time, duration, outcome, error, worker)',
        params: JobParams,
        response: { 200: JobDetailOutput, 404: Message, ...denied },
      },
    },
    (request) => deps.jobs.detail(known(request.params.queue), request.params.id),
  );
}
